/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>

#include <sodium.h>

#include "cp_json.h"

/* Each block is prefixed with its size so free() knows what to wipe; 16
 * bytes keeps the user part aligned like malloc's. */
#define CP_JSON_HDR 16

static void *
cp_json_malloc(size_t n)
{
	unsigned char *p = malloc(n + CP_JSON_HDR);

	if (p == NULL)
		return NULL;
	*(size_t *)p = n;
	return p + CP_JSON_HDR;
}

static void
cp_json_free(void *ptr)
{
	unsigned char *p;

	if (ptr == NULL)
		return;
	p = (unsigned char *)ptr - CP_JSON_HDR;
	sodium_memzero(p, *(size_t *)p + CP_JSON_HDR);
	free(p);
}

void
cp_json_init(void)
{
	json_set_alloc_funcs(cp_json_malloc, cp_json_free);
}

void
cp_json_wipe_string(json_t *s)
{
	if (s != NULL && json_is_string(s))
		sodium_memzero((char *)json_string_value(s),
			       json_string_length(s));
}
