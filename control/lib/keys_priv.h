/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Internal to liborcp: the token module reads the per-epoch sub-keys.
 */
#ifndef OR_KEYS_PRIV_H
#define OR_KEYS_PRIV_H

#include <stdint.h>

#include "keys.h"

#define OR_SUBKEY_LEN 32
#define OR_KDF_CTX_TOKEN "optroute"
#define OR_KDF_CTX_SEAL "optrseal"
/* The fleet key check (or_keys_fleet_check): one-way, public. */
#define OR_KDF_CTX_FLEET "optrfpr1"

/* Read-only 32-byte sub-key of epoch. */
const uint8_t *or_keys_subkey(const struct or_keys *k, uint8_t epoch);

#endif
