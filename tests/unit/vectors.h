/*
 * vectors.h: the MS-NLMP 4.2 test values, typed in from the specification
 * (../shared/reference/MS-NLMP.txt). Each value cites its subsection. The
 * specification text was extracted from a PDF: where its bytes disagree
 * with each other, the comment says which was taken and why.
 */
#ifndef NTLM_TEST_VECTORS_H
#define NTLM_TEST_VECTORS_H

/* MS-NLMP 4.2.1 Common Values */
#define V_USER               "User"
#define V_DOMAIN             "Domain"
#define V_PASSWORD           "Password"
#define V_SERVER             "Server"
#define V_WORKSTATION        "COMPUTER"
#define V_RANDOM_SESSION_KEY "55555555555555555555555555555555"
#define V_CLIENT_CHALLENGE   "aaaaaaaaaaaaaaaa"
#define V_SERVER_CHALLENGE   "0123456789abcdef"

/* MS-NLMP 4.2.2 NTLM v1 Authentication */
#define V1_FLAGS                  0xe2028233u                                        /* bytes 33 82 02 e2 */
#define V1_LMOWF                  "e52cac67419a9a224a3b108f3fa6cb6d"                 /* 4.2.2.1.1 */
#define V1_NTOWF                  "a4f49c406510bdcab6824ee7c30fd852"                 /* 4.2.2.1.2 */
#define V1_SESSION_BASE_KEY       "d87262b0cde4b1cb7499becccdf10784"                 /* 4.2.2.1.3 */
#define V1_NT_RESPONSE            "67c43011f30298a2ad35ece64f16331c44bdbed927841f94" /* 4.2.2.2.1 */
#define V1_LM_RESPONSE            "98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13" /* 4.2.2.2.2 */
#define V1_LM_KEY_KXKEY           "b09e379f7fbecb1eaf0afdcb0383c8a0"                 /* 4.2.2.2.2 */
#define V1_ENC_SESSION_KEY        "518822b1b3f350c8958682ecbb3e3cb7"                 /* 4.2.2.2.3 */
#define V1_ENC_SESSION_KEY_NON_NT "7452ca55c225a1ca04b48fae32cf56fc"                 /* 4.2.2.2.3 */
#define V1_ENC_SESSION_KEY_LM_KEY "4cd7bb57d697ef9b549f02b8f9b37864"                 /* 4.2.2.2.3 */
/* 4.2.2.3 */
#define V1_CHALLENGE_MSG                                                    \
	"4e544c4d53535000020000000c000c003800000033820 2e20123456789abcdef" \
	"00000000000000000000000000000000060070170000000f53006500720076006500720 0"
#define V1_AUTHENTICATE_MSG                                                 \
	"4e544c4d5353500003000000180018006c00000018001800840000000c000c00"  \
	"48000000080008005400000010001000 5c000000100010009c000000358280e2" \
	"0501280a0000000f44006f006d00610069006e00550073006500720043004f00"  \
	"4d00500055005400450052 0098def7b87f88aa5dafe2df779688a172def11c7d" \
	"5ccdef1367c43011f30298a2ad35ece64f16331c44bdbed927841f94518822b1"  \
	"b3f350c8958682ecbb3e3cb7"
/* 4.2.2.4 GSS_WrapEx, NTLMv1 without ESS: sealed "Plaintext" (UTF-16LE) */
#define V_PLAINTEXT                        \
	"50006c00610069006e00740065007800" \
	"7400"
#define V1_SEALED_DATA "56fe04d861f9319af0d7238a2e3b4d457fb8"
#define V1_SIGNATURE \
	"01000000"   \
	"45c844e5"   \
	"09dcd1df"   \
	"2e459d36"

/* MS-NLMP 4.2.3 NTLM v1 with Client Challenge (extended session security) */
#define V1ESS_FLAGS       0x820a8233u                                        /* bytes 33 82 0a 82 */
#define V1ESS_KXKEY       "eb93429a8bd952f8b89c55b87f475edc"                 /* 4.2.3.1.3 */
#define V1ESS_LM_RESPONSE "aaaaaaaaaaaaaaaa00000000000000000000000000000000" /* 4.2.3.2.1 */
#define V1ESS_NT_RESPONSE "7537f803ae367128ca458204bde7caf81e97ed2683267232" /* 4.2.3.2.2 */
#define V1ESS_CHALLENGE_MSG                                                 \
	"4e544c4d53535000020000000c000c0038000000338 20a820123456789abcdef" \
	"00000000000000000000000000000000060070170000000f530065007200760065007200"
#define V1ESS_AUTHENTICATE_MSG                                              \
	"4e544c4d5353500003000000180018006c00000018001800840000000c000c00"  \
	"480000000800080054000000100010005c000000000000009c00000035820882"  \
	"0501280a0000000f44006f006d00610069006e00550073006500720043004f00"  \
	"4d005000550054004500520 0aaaaaaaaaaaaaaaa000000000000000000000000" \
	"000000007537f803ae367128ca458204bde7caf81e97ed2683267232"
#define V1ESS_SEAL_KEY    "04dd7f014d8504d265a25cc86a3a7c06" /* 4.2.3.4 */
#define V1ESS_SIGN_KEY    "60e799be5c72fc92922ae8ebe961fb8d" /* 4.2.3.4 */
#define V1ESS_SEALED_DATA "a02372f6530273f3aa1eb90190ce5200c99d"
#define V1ESS_SIGNATURE    \
	"01000000"         \
	"ff2aeb52f681793a" \
	"00000000"

/* MS-NLMP 4.2.4 NTLMv2 Authentication */
#define V2_FLAGS            0xe28a8233u                        /* bytes 33 82 8a e2 */
#define V2_NTOWF            "0c868a403bfd7a93a3001ef22ef02e3f" /* 4.2.4.1.1 */
#define V2_SESSION_BASE_KEY "8de40ccadbc14a82f15cb0ad0de95ca3" /* 4.2.4.1.2 */
/* 4.2.4.1.3 temp. The printed dump shows seven "aa" bytes in the client
 * challenge, a PDF artefact: ClientChallenge is eight (4.2.1) and the
 * AUTHENTICATE message in 4.2.4.3 carries eight. */
#define V2_TEMP                             \
	"0101000000000000"                  \
	"0000000000000000"                  \
	"aaaaaaaaaaaaaaaa"                  \
	"00000000"                          \
	"02000c0044006f006d00610069006e00"  \
	"01000c005300650072007600650072 00" \
	"00000000"                          \
	"00000000"
#define V2_LMV2_RESPONSE   "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa" /* 4.2.4.2.1 */
#define V2_NTPROOFSTR      "68cd0ab851e51c96aabc927bebef6a1c"                 /* 4.2.4.2.2 */
#define V2_ENC_SESSION_KEY "c5dad2544fc9799094ce1ce90bc9d03e"                 /* 4.2.4.2.3 */
/* 4.2.4.3 */
#define V2_CHALLENGE_MSG                                                    \
	"4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef"  \
	"0000000000000000240024004400000006007017000000 0f5300650072007600" \
	"6500720002000c0044006f006d00610069006e0001000c005300650072007600"  \
	"6500720000000000"
#define V2_AUTHENTICATE_MSG                                                  \
	"4e544c4d5353500003000000180018006c00000054005400840000000c000c00"   \
	"48000000080008005400000010001000 5c00000010001000d800000035828 8e2" \
	"0501280a0000000f44006f006d00610069006e00550073006500720043004f00"   \
	"4d0050005500540045005200 86c35097ac9cec102554764a57cccc19aaaaaaaa"  \
	"aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000"   \
	"00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00"   \
	"01000c00530065007200760065007200000000000000000 0c5dad2544fc97990"  \
	"94ce1ce90bc9d03e"
#define V2_SEAL_KEY    "59f600973cc4960a25480a7c196e4c58" /* 4.2.4.4 */
#define V2_SIGN_KEY    "4788dc861b4782f35d43fd98fe1a2d39" /* 4.2.4.4 */
#define V2_SEALED_DATA "54e50165bf1936dc996020c1811b0f06fb5f"
#define V2_SIGNATURE       \
	"01000000"         \
	"7fb38ec5c55d4976" \
	"00000000"

#endif /* NTLM_TEST_VECTORS_H */
