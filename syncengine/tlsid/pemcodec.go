package tlsid

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// parseBundle splits a PEM blob into certificates (in file order) and the
// single private key it must contain.
func parseBundle(data []byte) ([]*x509.Certificate, crypto.Signer, error) {
	var (
		chain []*x509.Certificate
		key   crypto.Signer
	)
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "CERTIFICATE":
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: PEM block %d: bad certificate: %v", ErrInvalid, n, err)
			}
			chain = append(chain, cert)
		case "PRIVATE KEY", "EC PRIVATE KEY", "RSA PRIVATE KEY":
			if key != nil {
				return nil, nil, fmt.Errorf("%w: PEM block %d: more than one private key", ErrInvalid, n)
			}
			if _, encrypted := block.Headers["DEK-Info"]; encrypted {
				return nil, nil, fmt.Errorf("%w: PEM block %d: encrypted private keys are not supported; decrypt it or use PKCS#12", ErrInvalid, n)
			}
			k, err := parseKeyBlock(block)
			if err != nil {
				return nil, nil, fmt.Errorf("PEM block %d: %w", n, err)
			}
			key = k
		case "EC PARAMETERS":
			// openssl ecparam -genkey emits this next to the key; the key
			// itself names its curve, so it adds nothing.
		case "ENCRYPTED PRIVATE KEY":
			return nil, nil, fmt.Errorf("%w: PEM block %d: encrypted private keys are not supported; decrypt it or use PKCS#12", ErrInvalid, n)
		default:
			return nil, nil, fmt.Errorf("%w: PEM block %d: unexpected type %q", ErrInvalid, n, block.Type)
		}
	}
	if len(chain) == 0 {
		return nil, nil, fmt.Errorf("%w: no PEM CERTIFICATE block found", ErrInvalid)
	}
	if key == nil {
		return nil, nil, fmt.Errorf("%w: no PEM private key block found (want PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)", ErrInvalid)
	}
	return chain, key, nil
}

// parseKeyBlock decodes PKCS#8, SEC 1 (EC) or PKCS#1 (RSA) key DER.
func parseKeyBlock(block *pem.Block) (crypto.Signer, error) {
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%w: %q is not a private key block", ErrInvalid, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: bad %s: %v", ErrInvalid, block.Type, err)
	}
	return checkKeyType(key)
}

// checkKeyType allows the key types peers can use for TLS: ECDSA and RSA.
func checkKeyType(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return k, nil
		}
		return nil, fmt.Errorf("%w: ECDSA curve %s is not usable for TLS (use P-256, P-384 or P-521)", ErrInvalid, k.Curve.Params().Name)
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("%w: RSA key of %d bits is too weak (need at least 2048)", ErrInvalid, k.N.BitLen())
		}
		return k, nil
	default:
		return nil, fmt.Errorf("%w: private key type %T is not supported (use ECDSA or RSA)", ErrInvalid, key)
	}
}

// publicKeyEqualer is implemented by every public key type in the standard library.
type publicKeyEqualer interface {
	Equal(crypto.PublicKey) bool
}

// keyMatches reports whether cert carries key's public half.
func keyMatches(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := key.Public().(publicKeyEqualer)
	return ok && pub.Equal(cert.PublicKey)
}

// orderChain puts the certificate matching key first, keeping the others in
// their order, so bundles written CA-first still import. It fails when no
// certificate matches the key.
func orderChain(chain []*x509.Certificate, key crypto.Signer) ([]*x509.Certificate, error) {
	for i, c := range chain {
		if keyMatches(c, key) {
			out := make([]*x509.Certificate, 0, len(chain))
			out = append(out, c)
			out = append(out, chain[:i]...)
			return append(out, chain[i+1:]...), nil
		}
	}
	return nil, fmt.Errorf("%w: the private key does not match the leaf certificate (nor any certificate in the chain)", ErrInvalid)
}

// parseChainPEM reads a stored chain file, which must hold certificates only.
func parseChainPEM(data []byte) ([]*x509.Certificate, error) {
	var chain []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%w: chain file holds a %q block; only certificates belong there", ErrInvalid, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: chain file: bad certificate: %v", ErrInvalid, err)
		}
		chain = append(chain, cert)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("%w: chain file holds no certificate", ErrInvalid)
	}
	return chain, nil
}

// parseStoredKey reads a key written by encodeKeyPEM.
func parseStoredKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: stored private key is not PEM", ErrInvalid)
	}
	return parseKeyBlock(block)
}
