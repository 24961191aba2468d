/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The appliance's secrets: master key file, per-epoch token sub-keys, the
 * X25519 keypair that phones seal their numbers to, and the per-epoch
 * sender authentication keys K_auth (include/optroute/auth.h).
 * Specification: docs/privacy.md ("Tokens", "Master key", "Sealed numbers",
 * "Sender keys").
 *
 * Master key file: exactly 64 hex digits (32 bytes), optionally followed
 * by one '\n'; nothing else. Mode must not grant any permission to group
 * or others (st_mode & 077 == 0), else loading is refused. Hex rather than
 * raw so it survives copy/paste into a password manager or a backup.
 *
 * Everything derived from it is derived once, at load:
 *   sub-key(e)  = crypto_kdf_derive_from_key(32, e, "optroute", master)
 *                 for e = 0..255 (8 KiB)
 *   K_auth[e]   = crypto_kdf_derive_from_key(16, e, "optrauth", master)
 *                 for e = 0..255 (4 KiB)
 *   seal seed   = crypto_kdf_derive_from_key(32, 0, "optrseal", master)
 *   (pk, sk)    = crypto_box_seed_keypair(seal seed)
 * so the sealing keypair needs no second secret file and is the same on
 * every appliance sharing the master key. All secret bytes (master, sub-
 * keys, K_auth, sk) live in sodium_malloc() memory (guard pages, mlock'ed), made
 * read-only with sodium_mprotect_readonly() after load and wiped by
 * or_keys_free(). The master key itself is wiped right after derivation.
 *
 * A struct or_keys is immutable after load: any number of threads may use
 * it concurrently.
 */
#ifndef OR_KEYS_H
#define OR_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "optroute/auth.h"
#include "optroute/consent.h"

#include "or_err.h"

#define OR_MASTER_KEY_LEN 32
#define OR_SEAL_PK_LEN 32                      /* crypto_box_PUBLICKEYBYTES */
#define OR_SEAL_OVERHEAD 48                    /* crypto_box_SEALBYTES */
/* A sealed valid number is OR_SEAL_OVERHEAD + 2..16 bytes; anything
 * longer than this is refused before decryption. */
#define OR_SEALED_MAX (OR_SEAL_OVERHEAD + 64)
#define OR_SEALED_B64_MAX (((OR_SEALED_MAX + 2) / 3) * 4 + 1)
#define OR_PK_HEX_BUFSZ (2 * OR_SEAL_PK_LEN + 1)
#define OR_PK_B64_BUFSZ 45                     /* 44 chars + NUL */
/* A K_sender sealed to a phone's X25519 key: 16 + crypto_box_SEALBYTES. */
#define OR_SEALED_KEY_LEN (OR_AUTH_KEY_LEN + OR_SEAL_OVERHEAD)
#define OR_SEALED_KEY_B64_BUFSZ (((OR_SEALED_KEY_LEN + 2) / 3) * 4 + 1)

struct or_keys;

/* Writes a fresh random master key (hex, mode 0600) to path, atomically
 * and without ever replacing an existing file: temp file in the same
 * directory, fsync, link() to path (fails with -EEXIST if path exists),
 * unlink the temp name, fsync the directory. 0 or -errno. */
int or_keys_generate(const char *path, struct or_err *err);

/* Loads the master key file and derives all keys. Refuses (-EPERM,
 * "key file <path> is accessible by group/others (mode 0644); chmod 600
 * it") a file with st_mode & 077, refuses non-regular files and bad
 * contents (-EINVAL). 0 or -errno; *out is set only on success. */
int or_keys_load(const char *path, struct or_keys **out, struct or_err *err);

/* Wipes and frees. NULL is fine. */
void or_keys_free(struct or_keys *k);

/* K_auth[epoch], read-only, in the keys' locked memory: valid until
 * or_keys_free(). Never copy it anywhere but into a buffer that is wiped
 * after use (the channel's AUTH_KEYS message). */
const struct or_auth_key *or_keys_auth(const struct or_keys *k,
				       uint8_t epoch);

/* Issues a sender key: K_sender = or_auth_sender_key(K_auth[epoch],
 * sender), sealed with crypto_box_seal() to the phone's X25519 public key
 * pk into out. K_sender exists only in a stack buffer of this function,
 * wiped before it returns. 0, -EINVAL (pk is not a usable X25519 key, e.g.
 * of low order), -EIO. */
int or_keys_seal_sender_key(const struct or_keys *k, uint8_t epoch,
			    const struct or_token *sender,
			    const uint8_t pk[OR_SEAL_PK_LEN],
			    uint8_t out[OR_SEALED_KEY_LEN]);

/* 1 if the key memory is mlock'ed, 0 if mlock failed (RLIMIT_MEMLOCK too
 * low): the keys still work but could be swapped out; log a warning. */
int or_keys_locked(const struct or_keys *k);

/* The fleet's key check (docs/fleet.md section 3): 16 bytes derived
 * one-way from the master key (crypto_kdf, context "optrfpr1"), stored in
 * the system of record so that an appliance with another master key is
 * refused. Reveals nothing of the key. */
#define OR_FLEET_CHECK_LEN 16
void or_keys_fleet_check(const struct or_keys *k,
			 uint8_t out[OR_FLEET_CHECK_LEN]);

/* The sealing public key: raw, lowercase hex (64 chars + NUL) or standard
 * base64 with padding (44 chars + NUL). For `optroutectl pubkey`. */
void or_keys_pubkey(const struct or_keys *k, uint8_t pk[OR_SEAL_PK_LEN]);
void or_keys_pubkey_hex(const struct or_keys *k, char out[OR_PK_HEX_BUFSZ]);
void or_keys_pubkey_b64(const struct or_keys *k, char out[OR_PK_B64_BUFSZ]);

/* Opens a crypto_box_seal()ed number into a stack buffer, validates it as
 * strict E.164, derives its token under epoch and wipes the plaintext on
 * every path. The plain number never leaves this function.
 *   -EINVAL "sealed number too short|too long",
 *           "sealed number could not be opened (not sealed to this
 *            appliance's key, or corrupted)",
 *           or an E.164 message prefixed "sealed number: ". */
int or_token_from_sealed(const struct or_keys *k, uint8_t epoch,
			 const uint8_t *sealed, size_t len,
			 struct or_token *out, struct or_err *err);

/* The same with the blob in base64 (standard or URL-safe alphabet,
 * padding optional), as it arrives in JSON. */
int or_token_from_sealed_b64(const struct or_keys *k, uint8_t epoch,
			     const char *b64, size_t b64_len,
			     struct or_token *out, struct or_err *err);

/* Decodes base64 as it may arrive in JSON: standard or URL-safe alphabet,
 * padding optional, nothing else around it. 0 (*out_len bytes at out), or
 * -EINVAL (not base64, or more than cap bytes), -EIO. */
int or_base64_decode(const char *b64, size_t b64_len, uint8_t *out,
		     size_t cap, size_t *out_len);

/* Client side (optroutectl, tests): validates number[0..len) as E.164 and
 * seals it to pk into out (cap >= len + OR_SEAL_OVERHEAD); *out_len gets
 * the sealed length. Wipes number[0..len) on every path. 0, -EINVAL,
 * -ENOSPC, -EIO. Needs no secret. */
int or_seal_number(const uint8_t pk[OR_SEAL_PK_LEN], char *number,
		   size_t len, uint8_t *out, size_t cap, size_t *out_len,
		   struct or_err *err);

/* For a process that holds keys: no core dumps (RLIMIT_CORE 0) and not
 * dumpable/ptrace-attachable by same-uid processes (PR_SET_DUMPABLE 0).
 * Call early in main(), before loading keys. 0 or -errno. */
int or_process_harden(struct or_err *err);

#endif
