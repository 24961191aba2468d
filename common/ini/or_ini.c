/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The INI layer both daemons read optroute.ini with
 * (include/optroute/or_ini.h).
 *
 * libinih (Debian's is built without INI_HANDLER_LINENO) calls its handler
 * while it handles the line it read last, so the line our reader numbered
 * last is the handler's. The reader also decides, as inih does, what the
 * line is: comment or blank, a continuation (an indented non-blank line
 * after a key of this section), a section header (a '[' and a ']' before
 * any inline comment), else a key line or a syntax error that inih
 * reports. A line longer than inih's buffer is refused here and the rest
 * of it skipped, so inih never sees a line in pieces and its line count
 * stays ours.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "optroute/or_ini.h"

_Static_assert(INI_MAX_LINE == OR_INI_LINE_MAX + 2,
	       "OR_INI_LINE_MAX is inih's line less newline and NUL");
_Static_assert(INI_ALLOW_MULTILINE && INI_ALLOW_INLINE_COMMENTS &&
		       !INI_HANDLER_LINENO,
	       "the reader mirrors these inih options");

struct or_ini_sect {
	char name[OR_INI_NAME_LEN];
	unsigned line;
};

/* ------------------------------------------------------------ errors -- */

static void
ini_verr(struct or_ini *ini, unsigned line, const char *section,
	 const char *key, const char *fmt, va_list ap)
{
	size_t cap = ini->err_len;
	int n;

	if (ini->failed)
		return; /* the first error is the one reported */
	ini->failed = 1;
	ini->err_line = line;
	if (ini->err == NULL || cap == 0)
		return;
	if (line == 0)
		n = snprintf(ini->err, cap, "%s: ", ini->name);
	else if (section == NULL || section[0] == '\0')
		n = snprintf(ini->err, cap, "%s:%u: ", ini->name, line);
	else if (key == NULL)
		n = snprintf(ini->err, cap, "%s:%u: [%s]: ", ini->name, line,
			     section);
	else
		n = snprintf(ini->err, cap, "%s:%u: [%s] %s: ", ini->name, line,
			     section, key);
	if (n < 0 || (size_t)n >= cap)
		n = 0;
	vsnprintf(ini->err + n, cap - n, fmt, ap);
}

void
or_ini_err_at(struct or_ini *ini, unsigned line, const char *section,
	      const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ini_verr(ini, line, section, key, fmt, ap);
	va_end(ap);
}

void
or_ini_err(struct or_ini *ini, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ini_verr(ini, ini->line, ini->section, key, fmt, ap);
	va_end(ap);
}

int
or_ini_bad_value(struct or_ini *ini, const char *key, const char *value,
		 const char *expect_fmt, ...)
{
	char expect[256];
	va_list ap;

	va_start(ap, expect_fmt);
	vsnprintf(expect, sizeof(expect), expect_fmt, ap);
	va_end(ap);
	or_ini_err(ini, key, "invalid value '%s' (expected %s)", value, expect);
	return -1;
}

int
or_ini_unknown_key(struct or_ini *ini, const char *key)
{
	or_ini_err(ini, key, "unknown key");
	return -1;
}

int
or_ini_key_check(struct or_ini *ini, const char *key, unsigned flags)
{
	if (ini->cont) {
		if (flags & OR_INI_CONT)
			return 0;
		or_ini_err(ini, key, "indented line continues this key's value, "
			   "which takes one line (do not indent keys)");
		return -1;
	}
	if (ini->first != 0 && !(flags & OR_INI_REPEAT)) {
		or_ini_err(ini, key, "duplicate key (first on line %u)",
			   ini->first);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------ value parsers -- */

int
or_ini_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (unsigned i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -EINVAL;
}

int
or_ini_uint(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long x;
	char *end;

	/* strtoull alone would take blanks, a sign and wrap "-1" */
	if (!isdigit((unsigned char)v[0]))
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < min || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

int
or_ini_path(const char *v, char *out, size_t size)
{
	size_t n = strlen(v);

	if (n == 0 || n >= size)
		return -EINVAL;
	memcpy(out, v, n + 1);
	return 0;
}

int
or_ini_word(const char *v, const char *const *words)
{
	for (int i = 0; words[i] != NULL; i++)
		if (strcasecmp(v, words[i]) == 0)
			return i;
	return -EINVAL;
}

int
or_ini_get_bool(struct or_ini *ini, const char *key, const char *v, int *out)
{
	if (or_ini_bool(v, out) != 0)
		return or_ini_bad_value(ini, key, v, OR_INI_BOOL_EXPECT);
	return 0;
}

int
or_ini_get_uint(struct or_ini *ini, const char *key, const char *v,
		uint64_t min, uint64_t max, const char *expect, uint64_t *out)
{
	if (or_ini_uint(v, min, max, out) == 0)
		return 0;
	if (expect != NULL)
		return or_ini_bad_value(ini, key, v, "%s", expect);
	return or_ini_bad_value(ini, key, v, "an integer %llu..%llu",
				(unsigned long long)min,
				(unsigned long long)max);
}

int
or_ini_get_path(struct or_ini *ini, const char *key, const char *v,
		const char *what, char *out, size_t size)
{
	if (or_ini_path(v, out, size) != 0)
		return or_ini_bad_value(ini, key, v, "a %s of 1..%zu characters",
					what, size - 1);
	return 0;
}

int
or_ini_get_channel(struct or_ini *ini, const char *key, const char *v,
		   char out[OR_INI_SOCK_PATH_LEN])
{
	return or_ini_get_path(ini, key, v, "socket path", out,
			       OR_INI_SOCK_PATH_LEN);
}

/* ------------------------------------------------------------ reader -- */

static int
src_getc(struct or_ini *ini)
{
	if (ini->f != NULL)
		return getc(ini->f);
	if (ini->left == 0)
		return EOF;
	ini->left--;
	return (unsigned char)*ini->str++;
}

/* inih's inline comment rule: ';' after a blank starts a comment. The
 * first of chars before any comment, or NULL; with chars NULL, where the
 * comment starts, or NULL if there is none. */
static const char *
find_chars(const char *s, const char *chars)
{
	int was_space = 0;

	for (; *s != '\0'; s++) {
		if (chars != NULL && strchr(chars, *s) != NULL)
			return s;
		if (was_space && strchr(INI_INLINE_COMMENT_PREFIXES, *s))
			return chars == NULL ? s : NULL;
		was_space = isspace((unsigned char)*s);
	}
	return NULL;
}

static void
section_begin(struct or_ini *ini, const char *name, size_t n)
{
	if (n >= sizeof(ini->section))
		n = sizeof(ini->section) - 1;
	memcpy(ini->section, name, n);
	ini->section[n] = '\0';
	ini->last_key[0] = '\0';
	ini->n_keys = 0;
	for (unsigned i = 0; i < ini->n_sects; i++)
		if (strcmp(ini->sects[i].name, ini->section) == 0) {
			or_ini_err(ini, NULL, "duplicate section (first on "
				   "line %u)", ini->sects[i].line);
			return;
		}
	if (ini->n_sects == ini->sects_alloc) {
		unsigned n2 = ini->sects_alloc ? ini->sects_alloc * 2 : 16;
		void *p = realloc(ini->sects, n2 * sizeof(*ini->sects));

		if (p == NULL) {
			or_ini_err(ini, NULL, "out of memory");
			return;
		}
		ini->sects = p;
		ini->sects_alloc = n2;
	}
	memcpy(ini->sects[ini->n_sects].name, ini->section,
	       sizeof(ini->section));
	ini->sects[ini->n_sects++].line = ini->line;
	if (ini->ops->section != NULL && !ini->failed)
		ini->ops->section(ini);
}

/* What inih will make of the line just read (see the file comment). */
static void
line_begin(struct or_ini *ini, const char *buf)
{
	const char *s = buf, *end;

	if (ini->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3; /* inih skips a UTF-8 BOM */
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	ini->cont = 0;
	if (*s == '\0' || strchr(INI_START_COMMENT_PREFIXES, *s) != NULL)
		return;
	if (ini->last_key[0] != '\0' && s > buf) {
		ini->cont = 1;
		return;
	}
	if (*s != '[')
		return;
	end = find_chars(s + 1, "]");
	if (end != NULL) /* else inih reports a syntax error */
		section_begin(ini, s + 1, (size_t)(end - s - 1));
}

/* fgets() for inih over the file or the string: one physical line per
 * call, numbered, checked, classified. */
static char *
reader(char *buf, int num, void *stream)
{
	struct or_ini *ini = stream;
	int n = 0, c = EOF;

	while (n < num - 1 && (c = src_getc(ini)) != EOF) {
		buf[n++] = (char)c;
		if (c == '\n')
			break;
	}
	if (n == 0)
		return NULL;
	buf[n] = '\0';
	ini->line++;
	if (buf[n - 1] != '\n' && n == num - 1) {
		/* At least num - 1 characters: longer than OR_INI_LINE_MAX.
		 * Refused, and the rest of the line skipped. */
		or_ini_err(ini, NULL, "line longer than %d characters "
			   "(continue a long value on indented lines)",
			   OR_INI_LINE_MAX);
		while ((c = src_getc(ini)) != EOF && c != '\n')
			;
	}
	if (memchr(buf, '\0', n) != NULL)
		or_ini_err(ini, NULL, "NUL byte in file");
	line_begin(ini, buf);
	return buf;
}

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct or_ini *ini = user;
	const char *key = name;
	char cont_buf[INI_MAX_LINE];

	(void)section; /* line_begin() tracks it, with its line */
	if (ini->failed)
		return 1; /* the first error is recorded; nothing more */
	if (ini->section[0] == '\0') {
		or_ini_err(ini, NULL, "key '%s' outside a section", name);
		return 0;
	}
	ini->first = 0;
	if (ini->cont) {
		/* inih 55 leaves an inline comment on a continuation line
		 * (later versions cut it): cut here, so that ';' after a
		 * blank is a comment on every line, whatever the version. */
		const char *end = find_chars(value, NULL);

		if (end != NULL) {
			size_t n = (size_t)(end - value);

			while (n > 0 && isspace((unsigned char)value[n - 1]))
				n--;
			memcpy(cont_buf, value, n);
			cont_buf[n] = '\0';
			value = cont_buf;
		}
		key = ini->last_key;
	} else {
		snprintf(ini->last_key, sizeof(ini->last_key), "%s", name);
		for (unsigned i = 0; i < ini->n_keys; i++)
			if (strcmp(ini->keys[i].name, name) == 0) {
				ini->first = ini->keys[i].line;
				break;
			}
		if (ini->first == 0 && ini->n_keys < OR_INI_MAX_KEYS &&
		    strlen(name) < OR_INI_NAME_LEN) {
			strcpy(ini->keys[ini->n_keys].name, name);
			ini->keys[ini->n_keys++].line = ini->line;
		}
	}
	if (ini->ops->key(ini, key, value) == 0)
		return 1;
	if (!ini->failed) /* a callback that forgot to say why */
		or_ini_bad_value(ini, key, value, "a valid value");
	return 0;
}

/* -------------------------------------------------------------- parse -- */

void
or_ini_init(struct or_ini *ini, const char *name,
	    const struct or_ini_ops *ops, void *user, char *err,
	    size_t err_len)
{
	memset(ini, 0, sizeof(*ini));
	ini->name = name;
	ini->ops = ops;
	ini->user = user;
	ini->err = err;
	ini->err_len = err_len;
	if (err != NULL && err_len > 0)
		err[0] = '\0';
}

static int
ini_run(struct or_ini *ini)
{
	int rc = ini_parse_stream(reader, ini, handler, ini);

	free(ini->sects);
	ini->sects = NULL;
	ini->n_sects = ini->sects_alloc = 0;
	ini->cont = 0;
	if (rc < 0) {
		ini->failed = 0; /* this one replaces any other */
		or_ini_err_at(ini, 0, NULL, NULL, "cannot parse (out of memory)");
		return -ENOMEM;
	}
	/* inih's own syntax errors (no '=' or ']') never reach the handler;
	 * rc is the first error line, ours or its. */
	if (rc > 0 && (!ini->failed || (ini->err_line != 0 &&
					(unsigned)rc < ini->err_line))) {
		ini->failed = 0;
		or_ini_err_at(ini, (unsigned)rc, NULL, NULL, "syntax error "
			      "(expected [section], key = value or a comment)");
	}
	return ini->failed ? -EINVAL : 0;
}

int
or_ini_parse_file(struct or_ini *ini, const char *path)
{
	int rc;

	ini->f = fopen(path, "re");
	if (ini->f == NULL) {
		rc = -errno;
		or_ini_err_at(ini, 0, NULL, NULL, "cannot open: %s",
			      strerror(-rc));
		return rc;
	}
	rc = ini_run(ini);
	if (rc == 0 && ferror(ini->f)) {
		or_ini_err_at(ini, 0, NULL, NULL, "read error");
		rc = -EIO;
	}
	fclose(ini->f);
	ini->f = NULL;
	return rc;
}

int
or_ini_parse_mem(struct or_ini *ini, const char *text, size_t len)
{
	ini->str = text;
	ini->left = len;
	return ini_run(ini);
}

int
or_ini_parse_string(struct or_ini *ini, const char *text)
{
	return or_ini_parse_mem(ini, text, strlen(text));
}
