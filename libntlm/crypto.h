/*
 * crypto.h: the primitives the library needs, behind one interface.
 * crypto_openssl.c is the only file that includes OpenSSL headers. It uses
 * a private OSSL_LIB_CTX with the default and legacy providers (MD4, DES
 * and RC4 live in legacy), created once, so loading libntlmssp never
 * changes the OpenSSL state of the host process (sshd, squid, ...).
 */
#ifndef NTLM_CRYPTO_H
#define NTLM_CRYPTO_H

#include "internal.h"

/* A scatter list for hashing several buffers as one message. */
struct ntlm_iov {
	const void *data;
	size_t len;
};

/* MD4 / MD5 of the concatenation of n buffers. */
enum ntlm_status ntlm_crypto_md4(const struct ntlm_iov *iov, size_t n, uint8_t ret[16]) NTLM_MUST_USE;
enum ntlm_status ntlm_crypto_md5(const struct ntlm_iov *iov, size_t n, uint8_t ret[16]) NTLM_MUST_USE;

/* HMAC-MD5 (RFC 2104) over the concatenation of n buffers: a hand-made
 * HMAC over the EVP digest, about twice as fast as EVP_MAC for NTLM's
 * short inputs. */
enum ntlm_status ntlm_crypto_hmac_md5(const uint8_t *key, size_t key_len, const struct ntlm_iov *iov,
                                      size_t n, uint8_t ret[16]) NTLM_MUST_USE;

/* DES-ECB of one 8-byte block with a 7-byte key expanded to 8 bytes with
 * parity as MS-NLMP 6 DES(K, D) requires. */
enum ntlm_status ntlm_crypto_des7(const uint8_t key7[7], const uint8_t in[8], uint8_t ret[8]) NTLM_MUST_USE;

/* RC4 keystream state for session security (MS-NLMP 3.4): opaque. */
struct ntlm_rc4;
enum ntlm_status ntlm_crypto_rc4_new(const uint8_t *key, size_t key_len, struct ntlm_rc4 **ret) NTLM_MUST_USE;
/* Encrypts/decrypts len bytes from in to out (may be the same buffer). */
enum ntlm_status ntlm_crypto_rc4_update(struct ntlm_rc4 *s, const uint8_t *in, size_t len,
                                        uint8_t *out) NTLM_MUST_USE;
void ntlm_crypto_rc4_free(struct ntlm_rc4 *s);
/* A one-time RC4 (RC4K of MS-NLMP 6): a fresh key schedule on the stack,
 * wiped before returning. */
enum ntlm_status ntlm_crypto_rc4_once(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
                                      uint8_t *out) NTLM_MUST_USE;

/* CRC-32 (IEEE 802.3, as MS-NLMP 3.4.3 uses for NTLMv1 signatures). */
uint32_t ntlm_crc32(const uint8_t *p, size_t len);

#endif /* NTLM_CRYPTO_H */
