/*
 * crypto_openssl.c: the primitives of crypto.h over OpenSSL 3.
 *
 * The only file of the library that includes OpenSSL headers. Everything
 * is fetched once from a private OSSL_LIB_CTX with the "legacy" (MD4, DES,
 * RC4) and "default" providers loaded into it, so the host process's
 * global OpenSSL state (default context, providers, FIPS mode) is never
 * touched. The fetched algorithms are immutable, reference-counted objects
 * and are shared by all threads; every call allocates its own EVP context.
 */
#include "crypto.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/provider.h>

#define MD5_BLOCK 64u
#define DES_BLOCK 8u

/* Written once under crypto_once (and by the destructor), read-only otherwise. */
struct crypto_algorithms {
	OSSL_LIB_CTX *libctx;
	OSSL_PROVIDER *legacy;
	OSSL_PROVIDER *deflt;
	EVP_MD *md4;
	EVP_MD *md5;
	EVP_CIPHER *des_ecb;
	EVP_CIPHER *rc4;
	bool ready;
};

static struct crypto_algorithms algs;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

struct ntlm_rc4 {
	EVP_CIPHER_CTX *ctx;
};

/* Releases whatever crypto_init managed to create. */
static void crypto_release(void)
{
	algs.ready = false;
	EVP_CIPHER_free(algs.rc4);
	EVP_CIPHER_free(algs.des_ecb);
	EVP_MD_free(algs.md5);
	EVP_MD_free(algs.md4);
	if (algs.deflt != NULL)
		OSSL_PROVIDER_unload(algs.deflt);
	if (algs.legacy != NULL)
		OSSL_PROVIDER_unload(algs.legacy);
	OSSL_LIB_CTX_free(algs.libctx);
	algs = (struct crypto_algorithms){0};
}

/* Creates the private library context and fetches the four algorithms. */
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
	algs.md5 = EVP_MD_fetch(algs.libctx, "MD5", NULL);
	algs.des_ecb = EVP_CIPHER_fetch(algs.libctx, "DES-ECB", NULL);
	algs.rc4 = EVP_CIPHER_fetch(algs.libctx, "RC4", NULL);
	if (algs.md4 == NULL || algs.md5 == NULL || algs.des_ecb == NULL || algs.rc4 == NULL)
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

/* Feeds every non-empty buffer of the scatter list to the digest. */
static bool digest_iov(EVP_MD_CTX *ctx, const struct ntlm_iov *iov, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (iov[i].len > 0 && EVP_DigestUpdate(ctx, iov[i].data, iov[i].len) != 1)
			return false;
	}
	return true;
}

/* One 16-byte digest (MD4 or MD5) in ctx of prefix (prefix_len bytes, none
 * when 0) followed by the scatter list; ret is written only on success. */
static bool digest_into(EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t *prefix, size_t prefix_len,
                        const struct ntlm_iov *iov, size_t n, uint8_t ret[16])
{
	const struct ntlm_iov head = {prefix, prefix_len};
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int out_len = 0;
	bool ok;

	ok = EVP_DigestInit_ex2(ctx, md, NULL) == 1 && digest_iov(ctx, &head, 1) && digest_iov(ctx, iov, n) &&
	     EVP_DigestFinal_ex(ctx, out, &out_len) == 1 && out_len == 16;
	if (ok)
		memcpy(ret, out, 16);
	NTLM_WIPE_ARRAY(out);
	return ok;
}

/* One digest (MD4 or MD5, 16 bytes) of a scatter list. */
static enum ntlm_status digest16(const EVP_MD *md, const struct ntlm_iov *iov, size_t n, uint8_t ret[16])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	bool ok = ctx != NULL && digest_into(ctx, md, NULL, 0, iov, n, ret);

	EVP_MD_CTX_free(ctx);
	return ok ? NTLM_OK : NTLM_ERR_CRYPTO;
}

/* digest16() for the public entry points: checks the arguments and makes
 * the algorithms ready before *md, a slot of algs, is read. */
static enum ntlm_status public_digest16(EVP_MD *const *md, const struct ntlm_iov *iov, size_t n,
                                        uint8_t ret[16])
{
	if (!iov_valid(iov, n) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!crypto_ready())
		return NTLM_ERR_CRYPTO;
	return digest16(*md, iov, n, ret);
}

enum ntlm_status ntlm_crypto_md4(const struct ntlm_iov *iov, size_t n, uint8_t ret[16])
{
	return public_digest16(&algs.md4, iov, n, ret);
}

enum ntlm_status ntlm_crypto_md5(const struct ntlm_iov *iov, size_t n, uint8_t ret[16])
{
	return public_digest16(&algs.md5, iov, n, ret);
}

/* RFC 2104 K0: the key, or MD5(key) when longer than a block, zero padded to 64 bytes. */
static enum ntlm_status hmac_block_key(const uint8_t *key, size_t key_len, uint8_t k0[MD5_BLOCK])
{
	memset(k0, 0, MD5_BLOCK);
	if (key_len > MD5_BLOCK) {
		struct ntlm_iov k = {key, key_len};
		return digest16(algs.md5, &k, 1, k0);
	}
	if (key_len > 0)
		memcpy(k0, key, key_len);
	return NTLM_OK;
}

/* One pass of RFC 2104 in ctx: MD5((K0 ^ pad) || text), text being the scatter list. */
static bool hmac_pass(EVP_MD_CTX *ctx, const uint8_t k0[MD5_BLOCK], uint8_t pad_byte,
                      const struct ntlm_iov *iov, size_t n, uint8_t ret[16])
{
	uint8_t pad[MD5_BLOCK];
	bool ok;

	for (size_t i = 0; i < MD5_BLOCK; i++)
		pad[i] = (uint8_t)(k0[i] ^ pad_byte);
	ok = digest_into(ctx, algs.md5, pad, MD5_BLOCK, iov, n, ret);
	NTLM_WIPE_ARRAY(pad);
	return ok;
}

/* RFC 2104 by hand: MD5((K0 ^ opad) || MD5((K0 ^ ipad) || text)), one EVP_MD_CTX for both passes. */
static bool hmac_md5_k0(const uint8_t k0[MD5_BLOCK], const struct ntlm_iov *iov, size_t n, uint8_t ret[16])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t inner[16];
	bool ok = ctx != NULL && hmac_pass(ctx, k0, 0x36u, iov, n, inner) &&
	          hmac_pass(ctx, k0, 0x5cu, &(struct ntlm_iov){inner, sizeof(inner)}, 1, ret);

	EVP_MD_CTX_free(ctx);
	NTLM_WIPE_ARRAY(inner);
	return ok;
}

enum ntlm_status ntlm_crypto_hmac_md5(const uint8_t *key, size_t key_len, const struct ntlm_iov *iov,
                                      size_t n, uint8_t ret[16])
{
	enum ntlm_status st;
	uint8_t k0[MD5_BLOCK];

	if ((key == NULL && key_len != 0) || !iov_valid(iov, n) || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!crypto_ready())
		return NTLM_ERR_CRYPTO;
	st = hmac_block_key(key, key_len, k0);
	if (st == NTLM_OK && !hmac_md5_k0(k0, iov, n, ret))
		st = NTLM_ERR_CRYPTO;
	NTLM_WIPE_ARRAY(k0);
	return st;
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
	enum ntlm_status st = NTLM_ERR_CRYPTO;
	struct ntlm_rc4 *s = NULL;
	OSSL_PARAM params[2];
	size_t klen = key_len;

	if (key == NULL || key_len == 0 || key_len > 256 || ret == NULL)
		return NTLM_ERR_INVALID_ARGUMENT;
	if (!crypto_ready())
		return NTLM_ERR_CRYPTO;
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		st = NTLM_ERR_NO_MEMORY;
		goto out;
	}
	s->ctx = EVP_CIPHER_CTX_new();
	if (s->ctx == NULL)
		goto out;
	/* RC4's key length is variable: set it before the key is installed. */
	params[0] = OSSL_PARAM_construct_size_t(OSSL_CIPHER_PARAM_KEYLEN, &klen);
	params[1] = OSSL_PARAM_construct_end();
	if (EVP_EncryptInit_ex2(s->ctx, algs.rc4, NULL, NULL, params) != 1 ||
	    EVP_EncryptInit_ex2(s->ctx, NULL, key, NULL, NULL) != 1)
		goto out;
	*ret = s;
	s = NULL;
	st = NTLM_OK;
out:
	ntlm_crypto_rc4_free(s);
	return st;
}

enum ntlm_status ntlm_crypto_rc4_update(struct ntlm_rc4 *s, const uint8_t *in, size_t len, uint8_t *out)
{
	if (s == NULL || ((in == NULL || out == NULL) && len != 0))
		return NTLM_ERR_INVALID_ARGUMENT;
	/* EVP takes an int length: feed large buffers in chunks (RC4 is a stream). */
	while (len > 0) {
		int chunk = len > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)len;
		int out_len = 0;

		if (EVP_EncryptUpdate(s->ctx, out, &out_len, in, chunk) != 1 || out_len != chunk)
			return NTLM_ERR_CRYPTO;
		in += chunk;
		out += chunk;
		len -= (size_t)chunk;
	}
	return NTLM_OK;
}

void ntlm_crypto_rc4_free(struct ntlm_rc4 *s)
{
	if (s == NULL)
		return;
	EVP_CIPHER_CTX_free(s->ctx); /* the provider clears its key schedule */
	free(s);
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
