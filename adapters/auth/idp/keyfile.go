package idp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyBits is the size of generated keys; the verifier refuses smaller ones.
const KeyBits = 2048

// GenerateKey makes a new RSA signing key.
func GenerateKey() (*rsa.PrivateKey, error) {
	k, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return nil, fmt.Errorf("idp: generate key: %w", err)
	}
	return k, nil
}

func checkKey(k *rsa.PrivateKey) error {
	if k.N.BitLen() < KeyBits {
		return fmt.Errorf("idp: RSA key of %d bits is too small, need %d", k.N.BitLen(), KeyBits)
	}
	return nil
}

// LoadKey reads an RSA private key from a PEM file, PKCS#8 ("PRIVATE KEY")
// or PKCS#1 ("RSA PRIVATE KEY"), so keys made by openssl work too.
func LoadKey(path string) (*rsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("idp: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("idp: %s holds no PEM block", path)
	}
	var key *rsa.PrivateKey
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("idp: %s: %w", path, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("idp: %s holds a %T, not an RSA key", path, k)
		}
		key = rk
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("idp: %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("idp: %s holds a %q PEM block, not a private key", path, block.Type)
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// SaveKey writes key to path as PKCS#8 PEM, readable by the owner only. The
// file appears whole or not at all, and an existing file is never replaced:
// two processes racing to create a key must end up sharing one.
func SaveKey(path string, key *rsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".idp-key-*")
	if err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("idp: %w", err)
	}
	if err := pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		tmp.Close()
		return fmt.Errorf("idp: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("idp: %w", err)
	}
	return nil
}

// LoadOrCreateKey loads the key at path, generating and saving one first if
// the file does not exist. created reports whether it did.
func LoadOrCreateKey(path string) (key *rsa.PrivateKey, created bool, err error) {
	key, err = LoadKey(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	key, err = GenerateKey()
	if err != nil {
		return nil, false, err
	}
	switch err := SaveKey(path, key); {
	case err == nil:
		return key, true, nil
	case errors.Is(err, fs.ErrExist):
		key, err = LoadKey(path) // another process won the race
		return key, false, err
	default:
		return nil, false, err
	}
}
