package podiumsim

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
)

// envelope is the sealed form of an instance's secrets. The simulator reads
// it independently of the adapter's sealing code, so the two readings of
// the format check each other.
type envelope struct {
	V          int    `json:"v"`
	Alg        string `json:"alg"`
	Nonce      string `json:"nonce"`
	Ciphertext string `json:"ciphertext"`
}

var errBadSecrets = errors.New("secrets must be a sealed envelope (v 1, A256GCM)")

// openSecrets opens a sealed secrets envelope with key. With no key the
// envelope is accepted unread, as a Podium without SECRETS_KEY could only
// pass it on.
func openSecrets(key string, raw json.RawMessage) (map[string]string, error) {
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.V != 1 || env.Alg != "A256GCM" || env.Nonce == "" || env.Ciphertext == "" {
		return nil, errBadSecrets
	}
	if key == "" {
		return nil, nil
	}
	nonce, err1 := base64.StdEncoding.DecodeString(env.Nonce)
	ct, err2 := base64.StdEncoding.DecodeString(env.Ciphertext)
	if err1 != nil || err2 != nil {
		return nil, errBadSecrets
	}
	k := sha256.Sum256([]byte(key))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(nonce) != gcm.NonceSize() {
		return nil, errBadSecrets
	}
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		return nil, errors.New("secrets do not open with the configured key")
	}
	var m map[string]string
	if err := json.Unmarshal(plain, &m); err != nil {
		return nil, errBadSecrets
	}
	return m, nil
}
