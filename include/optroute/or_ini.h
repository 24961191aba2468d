/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The one INI layer of optroute.ini (common/ini/or_ini.c), which both
 * daemons read: optroute-dataplane (dataplane/config.c) and
 * optroute-control (control/daemon/cp_cfg.c). The file's rules and the
 * accepted spellings of values are in docs/configuration.md.
 *
 * libinih does the INI syntax; this layer feeds it through its own line
 * reader, which numbers lines, sees section headers (also those no key
 * follows, which inih never reports) and indented continuation lines the
 * way inih does, refuses NUL bytes and lines longer than OR_INI_LINE_MAX
 * (never a line cut in pieces), and refuses a section given twice. What a
 * section or a key means is the daemon's: it gets them through two
 * callbacks, checks keys with or_ini_key_check() and values with the value
 * parsers below, and reports through or_ini_err*(), so that every message
 * of either daemon reads
 *
 *   FILE:LINE: [SECTION] KEY: message    a key's line
 *   FILE:LINE: [SECTION]: message        a section (header or whole)
 *   FILE:LINE: message                   outside any section, syntax
 *   FILE: message                        the whole file
 *
 * and the first error is the one reported.
 *
 * One parse at a time per struct or_ini (on the caller's stack); no
 * global state, so the daemons, their tests and the fuzz target may parse
 * files concurrently.
 */
#ifndef OPTROUTE_OR_INI_H
#define OPTROUTE_OR_INI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Longest line, newline excluded: libinih's INI_MAX_LINE (200) less the
 * newline and the NUL (checked in or_ini.c). */
#define OR_INI_LINE_MAX 198
/* Section and key names as kept for messages, NUL included. */
#define OR_INI_NAME_LEN 64
/* A socket path and its NUL: sizeof(sun_path). */
#define OR_INI_SOCK_PATH_LEN 108
/* Keys checked for duplicates per section (more: not checked). */
#define OR_INI_MAX_KEYS 64

/* [dataplane] channel, which both daemons read: where the dataplane
 * listens and the control plane connects, unless [control]
 * channel_socket says otherwise. */
#define OR_INI_DEFAULT_CHANNEL "/run/optroute/dataplane.sock"

/* The expected-value text of booleans (docs/configuration.md lists every
 * spelling once). */
#define OR_INI_BOOL_EXPECT "yes or no"

struct or_ini;

struct or_ini_ops {
	/* A section header: its name in ini->section, its line in
	 * ini->line. Reports through or_ini_err(). May be NULL. */
	void (*section)(struct or_ini *ini);
	/* A key line (ini->first: where the key was given before in this
	 * section, or 0), or with ini->cont set an indented line that
	 * continues key's value (value: that line's text). 0, or -1 with the
	 * error recorded. Not called for a key before any section (an
	 * error of the layer's). */
	int (*key)(struct or_ini *ini, const char *key, const char *value);
};

struct or_ini {
	/* Set by or_ini_init(). */
	const char *name;              /* the file's name in messages */
	void *user;                    /* the daemon's parse state */

	/* What the callbacks read. */
	unsigned line;                 /* the line being handled, from 1 */
	char section[OR_INI_NAME_LEN]; /* current section, "" before one */
	int cont;                      /* key: a continuation line */
	unsigned first;                /* key: line of its first time, or 0 */

	/* The first error: failed, and its line (0: the whole file). */
	int failed;
	unsigned err_line;

	/* Private to or_ini.c. */
	const struct or_ini_ops *ops;
	char *err;
	size_t err_len;
	FILE *f;
	const char *str;
	size_t left;
	char last_key[OR_INI_NAME_LEN];
	unsigned n_keys;
	struct {
		char name[OR_INI_NAME_LEN];
		unsigned line;
	} keys[OR_INI_MAX_KEYS];
	unsigned n_sects, sects_alloc;
	struct or_ini_sect *sects;
};

/* Prepares a parse: messages name the file `name` and go to err
 * (err_len bytes, "" until an error). */
void or_ini_init(struct or_ini *ini, const char *name,
		 const struct or_ini_ops *ops, void *user, char *err,
		 size_t err_len);

/* Parses a file, a string or len bytes (NUL bytes included, refused).
 * 0; -EINVAL with the first error in err; -ENOMEM; or the -errno of
 * opening the file ("FILE: cannot open: REASON"). */
int or_ini_parse_file(struct or_ini *ini, const char *path);
int or_ini_parse_string(struct or_ini *ini, const char *text);
int or_ini_parse_mem(struct or_ini *ini, const char *text, size_t len);

/* Records an error unless one is recorded already. line 0 names the
 * whole file; section NULL or "" none; key NULL none. Usable after the
 * parse too, for whole-file checks. */
void or_ini_err_at(struct or_ini *ini, unsigned line, const char *section,
		   const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* The same at the current line and section. */
void or_ini_err(struct or_ini *ini, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "invalid value 'VALUE' (expected EXPECT)" at the current line. -1. */
int or_ini_bad_value(struct or_ini *ini, const char *key, const char *value,
		     const char *expect_fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Flags of or_ini_key_check(). */
#define OR_INI_REPEAT 1u /* may be given again in its section */
#define OR_INI_CONT 2u   /* may continue on indented lines */

/* A known key's line against its flags: "duplicate key (first on line
 * N)", or "indented line continues this key's value, which takes one line
 * (do not indent keys)". 0, or -1 with the error recorded. */
int or_ini_key_check(struct or_ini *ini, const char *key, unsigned flags);

/* "unknown key" at the current line. -1. */
int or_ini_unknown_key(struct or_ini *ini, const char *key);

/* ---- value parsers: 0 or -EINVAL, *out written only on success ---- */

/* yes/no, true/false, on/off, 1/0, in any case. */
int or_ini_bool(const char *v, int *out);
/* Decimal digits only (no sign, blank or prefix), min..max. */
int or_ini_uint(const char *v, uint64_t min, uint64_t max, uint64_t *out);
/* A path of 1..size-1 bytes, copied with its NUL; never cut. */
int or_ini_path(const char *v, char *out, size_t size);
/* The index of v among words (NULL-terminated), in any case. */
int or_ini_word(const char *v, const char *const *words);

/* ---- the same for a key, the error recorded with one text each ---- */

/* "yes or no". */
int or_ini_get_bool(struct or_ini *ini, const char *key, const char *v,
		    int *out);
/* expect NULL: "an integer MIN..MAX". */
int or_ini_get_uint(struct or_ini *ini, const char *key, const char *v,
		    uint64_t min, uint64_t max, const char *expect,
		    uint64_t *out);
/* "a path of 1..SIZE-1 characters" (what: "path", "socket path", ...). */
int or_ini_get_path(struct or_ini *ini, const char *key, const char *v,
		    const char *what, char *out, size_t size);
/* [dataplane] channel, as both daemons read it: a socket path of
 * 1..107 characters. */
int or_ini_get_channel(struct or_ini *ini, const char *key, const char *v,
		       char out[OR_INI_SOCK_PATH_LEN]);

#endif
