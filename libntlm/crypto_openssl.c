/*
 * crypto_openssl.c: the primitives of crypto.h over OpenSSL 3.
 *
 * The only file of the library that includes OpenSSL headers. Everything
 * is fetched once from a private OSSL_LIB_CTX with the "legacy" (MD4, DES)
 * and "default" providers loaded into it, so the host process's
 * global OpenSSL state (default context, providers, FIPS mode) is never
 * touched. The fetched algorithms are immutable, reference-counted objects
 * and are shared by all threads; every call allocates its own EVP context.
 *
 * MD5 (so HMAC-MD5) and RC4 are the exceptions: they are the hot path of an
 * NTLMv2 verification (five MD5 digests of a few blocks each and the
 * KEY_EXCH unwrap) and of session security. OpenSSL's low-level MD5 and RC4
 * APIs on contexts we own cost no allocation and no provider dispatch: an
 * RC4K through EVP costs about 1 us, three times its key schedule, and an
 * EVP context per HMAC adds about a fifth to a verification (bench/). They
 * use no library context at all, so they cannot touch the host's OpenSSL
 * state either.
 */
/* MD5_Init, RC4_set_key & co. are deprecated in OpenSSL 3 but kept in its API. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "crypto.h"

#include <pthread.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/provider.h>
#include <openssl/rc4.h>

#define MD5_BLOCK 64u
#define DES_BLOCK 8u

/* Written once under crypto_once (and by the destructor), read-only otherwise. */
struct crypto_algorithms {
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *legacy;
	OSSL_PROVIDER *deflt;
	EVP_MD *md4;
	EVP_CIPHER *des_ecb;
	bool ready;
};

static struct crypto_algorithms algs;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

struct ntlm_rc4 {
	RC4_KEY key; /* the key schedule: secret, wiped on free */
};

/* Releases whatever crypto_init managed to create. */
static void crypto_release(void)
{
	algs.ready = false;
	EVP_CIPHER_free(algs.des_ecb);
	EVP_MD_free(algs.md4);
	if (algs.deflt != NULL)
		OSSL_PROVIDER_unload(algs.deflt);
	if (algs.legacy != NULL)
		OSSL_PROVIDER_unload(algs.legacy);
	OSSL_LIB_CTX_free(algs.libctx);
	algs = (struct crypto_algorithms){0};
}

/* Creates the private library context and fetches MD4 and DES-ECB. */
static void crypto_init(void)
{
	algs.libctx = OSSL_LIB_CTX_new();
	if (algs.libctx == NULL)
		goto fail;
	algs.legacy = OSSL_PROVIDER_load(algs.libctx, "legacy");
	algs.deflt = OSSL_PROVIDER_load(algs.libctx, "default");
	if (algs.legacy == NULL || algs.deflt == NULL)
		goto fail;
	algs.md4 = EVP_MD_fetch(algs.libctx, "MD4", NULL);
	algs.des_ecb = EVP_CIPHER_fetch(algs.libctx, "DES-ECB", NULL);
	if (algs.md4 == NULL || algs.des_ecb == NULL)
		goto fail;
	algs.ready = true;
	return;
fail:
	crypto_release();
}

__attribute__((destructor)) static void crypto_fini(void)
{
	crypto_release();
}

/* True once the algorithms are available; initialises them on first use. */
static bool crypto_ready(void)
{
	if (pthread_once(&crypto_once, crypto_init) != 0)
		return false;
	return algs.ready;
}

static bool iov_valid(const struct ntlm_iov *iov, size_t n)
{
	if (iov == NULL)
		return n == 0;
	for (size_t i = 0; i < n; i++) {
		if (iov[i].data == NULL && iov[i].len != 0)
			return false;
	}
	return true;
}

/* MS-NLMP 3.3.1 NTOWFv1's MD4, through EVP from the legacy provider. */
enum ntlm_status ntlm_crypto_md4(const struct ntlm_iov *iov, size_t n, uint8_t ret[16])
{
	EVP_MD_CTX *ctx;
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int out_len = 0;
	bool ok;

	if (!iov_valid(iov, n) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!crypto_ready())
		return NTLM_ERR_CRYPTO;
	ctx = EVP_MD_CTX_new();
	ok = ctx != NULL && EVP_DigestInit_ex2(ctx, algs.md4, NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = iov[i].len == 0 || EVP_DigestUpdate(ctx, iov[i].data, iov[i].len) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &out_len) == 1 && out_len == 16;
	if (ok)
		memcpy(ret, out, 16);
	EVP_MD_CTX_free(ctx);
	NTLM_WIPE_ARRAY(out);
	return ok ? NTLM_OK : NTLM_ERR_CRYPTO;
}

/* MD5 of prefix (prefix_len bytes, none when 0) followed by the scatter
 * list, with the low-level API (see the top of this file). */
static void md5_into(const uint8_t *prefix, size_t prefix_len, const struct ntlm_iov *iov, size_t n,
                     uint8_t ret[16])
{
	MD5_CTX c;

	MD5_Init(&c);
	if (prefix_len > 0)
		MD5_Update(&c, prefix, prefix_len);
	for (size_t i = 0; i < n; i++)
		if (iov[i].len > 0)
			MD5_Update(&c, iov[i].data, iov[i].len);
	MD5_Final(ret, &c);
	NTLM_WIPE_OBJECT(&c);
}

enum ntlm_status ntlm_crypto_md5(const struct ntlm_iov *iov, size_t n, uint8_t ret[16])
{
	if (!iov_valid(iov, n) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	md5_into(NULL, 0, iov, n, ret);
	return NTLM_OK;
}

/* RFC 2104 K0: the key, or MD5(key) when longer than a block, zero padded to 64 bytes. */
static void hmac_block_key(const uint8_t *key, size_t key_len, uint8_t k0[MD5_BLOCK])
{
	memset(k0, 0, MD5_BLOCK);
	if (key_len > MD5_BLOCK)
		md5_into(key, key_len, NULL, 0, k0);
	else if (key_len > 0)
		memcpy(k0, key, key_len);
}

/* One pass of RFC 2104: MD5((K0 ^ pad) || text), text being the scatter list. */
static void hmac_pass(const uint8_t k0[MD5_BLOCK], uint8_t pad_byte, const struct ntlm_iov *iov, size_t n,
                      uint8_t ret[16])
{
	uint8_t pad[MD5_BLOCK];

	for (size_t i = 0; i < MD5_BLOCK; i++)
		pad[i] = (uint8_t)(k0[i] ^ pad_byte);
	md5_into(pad, MD5_BLOCK, iov, n, ret);
	NTLM_WIPE_ARRAY(pad);
}

/* RFC 2104 by hand: MD5((K0 ^ opad) || MD5((K0 ^ ipad) || text)). */
enum ntlm_status ntlm_crypto_hmac_md5(const uint8_t *key, size_t key_len, const struct ntlm_iov *iov,
                                      size_t n, uint8_t ret[16])
{
	uint8_t k0[MD5_BLOCK], inner[16];

	if ((key == NULL && key_len != 0) || !iov_valid(iov, n) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	hmac_block_key(key, key_len, k0);
	hmac_pass(k0, 0x36u, iov, n, inner);
	hmac_pass(k0, 0x5cu, &(struct ntlm_iov){inner, sizeof(inner)}, 1, ret);
	NTLM_WIPE_ARRAY(k0);
	NTLM_WIPE_ARRAY(inner);
	return NTLM_OK;
}

/* MS-NLMP 6 DES(K, D): spreads the 56 key bits over eight bytes, seven bits each, and sets
 * odd parity in the low bit of each byte. */
static void des_expand_key(const uint8_t k7[7], uint8_t k8[8])
{
	k8[0] = k7[0];
	k8[1] = (uint8_t)(k7[0] << 7 | k7[1] >> 1);
	k8[2] = (uint8_t)(k7[1] << 6 | k7[2] >> 2);
	k8[3] = (uint8_t)(k7[2] << 5 | k7[3] >> 3);
	k8[4] = (uint8_t)(k7[3] << 4 | k7[4] >> 4);
	k8[5] = (uint8_t)(k7[4] << 3 | k7[5] >> 5);
	k8[6] = (uint8_t)(k7[5] << 2 | k7[6] >> 6);
	k8[7] = (uint8_t)(k7[6] << 1);
	for (size_t i = 0; i < 8; i++) {
		uint8_t b = (uint8_t)(k8[i] & 0xfeu), ones = 0;
		for (uint8_t v = b; v != 0; v = (uint8_t)(v >> 1))
			ones = (uint8_t)(ones + (v & 1u));
		k8[i] = (uint8_t)(b | ((ones & 1u) ^ 1u));
	}
}

enum ntlm_status ntlm_crypto_des7(const uint8_t key7[7], const uint8_t in[8], uint8_t ret[8])
{
	enum ntlm_status st = NTLM_ERR_CRYPTO;
	EVP_CIPHER_CTX *ctx = NULL;
	uint8_t k8[8], out[2 * DES_BLOCK];
	int out_len = 0;

	if (key7 == NULL || in == NULL || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!crypto_ready())
		return NTLM_ERR_CRYPTO;
	des_expand_key(key7, k8);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		goto out;
	if (EVP_EncryptInit_ex2(ctx, algs.des_ecb, k8, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, out, &out_len, in, (int)DES_BLOCK) != 1 || out_len != (int)DES_BLOCK)
		goto out;
	memcpy(ret, out, DES_BLOCK);
	st = NTLM_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	NTLM_WIPE_ARRAY(k8);
	NTLM_WIPE_ARRAY(out);
	return st;
}

enum ntlm_status ntlm_crypto_rc4_new(const uint8_t *key, size_t key_len, struct ntlm_rc4 **ret)
{
	struct ntlm_rc4 *s;

	if (key == NULL || key_len == 0 || key_len > 256 || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	s = malloc(sizeof(*s));
	if (s == NULL)
		return NTLM_ERR_NO_MEMORY;
	RC4_set_key(&s->key, (int)key_len, key);
	*ret = s;
	return NTLM_OK;
}

enum ntlm_status ntlm_crypto_rc4_update(struct ntlm_rc4 *s, const uint8_t *in, size_t len, uint8_t *out)
{
	if (s == NULL || ((in == NULL || out == NULL) && len != 0))
		return NTLM_ERR_INVALID_ARGUMENT;
	if (len > 0)
		RC4(&s->key, len, in, out);
	return NTLM_OK;
}

enum ntlm_status ntlm_crypto_rc4_once(const uint8_t *key, size_t key_len, const uint8_t *in, size_t len,
                                      uint8_t *out)
{
	RC4_KEY k;

	if (key == NULL || key_len == 0 || key_len > 256 || ((in == NULL || out == NULL) && len != 0))
		return NTLM_ERR_INVALID_ARGUMENT;
	RC4_set_key(&k, (int)key_len, key);
	if (len > 0)
		RC4(&k, len, in, out);
	NTLM_WIPE_OBJECT(&k);
	return NTLM_OK;
}

void ntlm_crypto_rc4_free(struct ntlm_rc4 *s)
{
	if (s == NULL)
		return;
	ntlm_free_wiped(s, sizeof(*s));
}

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) four bits at a time;
 * crc_nibble[n] is the CRC of the nibble n shifted through the register. */
static const uint32_t crc_nibble[16] = {
    0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
    0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu, 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu,
};

uint32_t ntlm_crc32(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = crc_nibble[crc & 0xfu] ^ (crc >> 4);
		crc = crc_nibble[crc & 0xfu] ^ (crc >> 4);
	}
	return crc ^ 0xffffffffu;
}
