package podium

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"

	"github.com/diminuendo/diminuendo/domain"
)

// sealedSecrets is the envelope the adapter forwards as an instance's
// secrets: the JSON of the map, sealed with AES-256-GCM under SHA-256 of
// PODIUM_SECRETS_KEY, with a fresh random nonce per envelope.
type sealedSecrets struct {
	V          int    `json:"v"`
	Alg        string `json:"alg"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

// seal seals secrets for Podium. Secrets are never sent in clear: without a
// key, a non-empty map is refused; an empty one needs no envelope.
func seal(key string, secrets map[string]string) (*sealedSecrets, error) {
	if len(secrets) == 0 {
		return nil, nil
	}
	if key == "" {
		// A configuration fault of the gateway, not of the client's request.
		return nil, domain.E(domain.KindInternal, "instance secrets cannot be forwarded without a secrets key")
	}
	plain, err := json.Marshal(secrets)
	if err != nil {
		return nil, domain.Wrap(domain.KindInternal, "cannot seal secrets", err)
	}
	k := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, domain.Wrap(domain.KindInternal, "cannot seal secrets", err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, domain.Wrap(domain.KindInternal, "cannot seal secrets", err)
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, domain.Wrap(domain.KindInternal, "cannot seal secrets", err)
	}
	return &sealedSecrets{
		V:          1,
		Alg:        "A256GCM",
		Nonce:      base64.StdEncoding.EncodeToString(nonce),
		Ciphertext: base64.StdEncoding.EncodeToString(gcm.Seal(nil, nonce, plain, nil)),
	}, nil
}
