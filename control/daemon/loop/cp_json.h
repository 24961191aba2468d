/* SPDX-License-Identifier: BSD-3-Clause
 *
 * jansson memory that forgets: requests may carry plain phone numbers, and
 * jansson copies string values into its own heap blocks (lexer buffer,
 * string values, object keys). cp_json_init() installs an allocator whose
 * free() wipes every block before releasing it, so no freed jansson memory
 * still holds a number. Replies are dumped with json_dumpb() into caller
 * buffers, never with json_dumps(), so nothing needs free() from outside.
 */
#ifndef CP_JSON_H
#define CP_JSON_H

#include <jansson.h>

/* Installs the wiping allocator. Call before any other jansson call. */
void cp_json_init(void);

/* Wipes the bytes of a string value in place (it stays a string of NULs). */
void cp_json_wipe_string(json_t *s);

#endif
