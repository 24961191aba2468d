/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Value parsers of the dataplane configuration (config_val.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "config_val.h"

/* A unicast, non-zero MAC "02:00:00:00:00:01". */
int
or_cfgv_mac(const char *v, uint8_t mac[6])
{
	int n = -1;

	if (sscanf(v, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%n", &mac[0],
		   &mac[1], &mac[2], &mac[3], &mac[4], &mac[5], &n) != 6 ||
	    n != 17 || v[n] != '\0')
		return -EINVAL;
	if (mac[0] & 1)
		return -EINVAL; /* multicast or broadcast */
	if ((mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0)
		return -EINVAL;
	return 0;
}

/* A unicast IPv4 address (not 0.0.0.0, multicast or broadcast). */
int
or_cfgv_ip(const char *v, uint32_t *ip)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, v, &a) != 1)
		return -EINVAL;
	h = ntohl(a.s_addr);
	if (h == 0 || h == UINT32_MAX || (h >> 28) == 0xe)
		return -EINVAL;
	*ip = a.s_addr;
	return 0;
}

/* "1,2,4-6": distinct lcore ids, at most max of them. */
int
or_cfgv_lcores(const char *v, unsigned *out, unsigned max, unsigned *n)
{
	const char *p = v;

	*n = 0;
	for (;;) {
		char *end;
		unsigned long a, b;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		a = strtoul(p, &end, 10);
		b = a;
		p = end;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '-') {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			b = strtoul(p, &end, 10);
			p = end;
			while (*p == ' ' || *p == '\t')
				p++;
		}
		if (a > OR_CFG_MAX_LCORE || b > OR_CFG_MAX_LCORE || b < a)
			return -EINVAL;
		for (unsigned long l = a; l <= b; l++) {
			for (unsigned i = 0; i < *n; i++)
				if (out[i] == l)
					return -EEXIST;
			if (*n == max)
				return -E2BIG;
			out[(*n)++] = (unsigned)l;
		}
		if (*p == '\0')
			return 0;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
}

/* Port names become parts of counter names: [a-z0-9_]. */
int
or_cfgv_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= OR_CFG_NAME_LEN)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* "0000:01:00.0" or "01:00.0", optionally followed by ",devargs". */
int
or_cfgv_pci(const char *d)
{
	static const char *const pats[] = { "xxxx:xx:xx.d", "xx:xx.d" };

	for (unsigned k = 0; k < 2; k++) {
		const char *p = pats[k];
		size_t i;

		for (i = 0; p[i] != '\0'; i++) {
			unsigned char c = (unsigned char)d[i];

			if (p[i] == 'x' ? !isxdigit(c) :
			    p[i] == 'd' ? (c < '0' || c > '7') : c != p[i])
				break;
		}
		if (p[i] == '\0' && (d[i] == '\0' || d[i] == ','))
			return 1;
	}
	return 0;
}

int
or_cfgv_has_arg(const char *args, const char *const *names)
{
	char *copy, *tok, *save = NULL;
	int found = 0;

	if (args == NULL)
		return 0;
	copy = strdup(args);
	if (copy == NULL)
		return 0;
	for (tok = strtok_r(copy, " \t", &save); tok != NULL && !found;
	     tok = strtok_r(NULL, " \t", &save))
		for (unsigned i = 0; names[i] != NULL; i++) {
			size_t n = strlen(names[i]);

			if (strncmp(tok, names[i], n) == 0 &&
			    (tok[n] == '\0' || tok[n] == '=' ||
			     (names[i][1] != '-' && isdigit((unsigned char)tok[n]))))
				found = 1;
		}
	free(copy);
	return found;
}

int
or_cfgv_lcore_cpus(const char *v, struct or_cfg_lcore_cpu *out, unsigned max,
		   unsigned *n)
{
	const char *p = v;
	unsigned k = 0;

	for (;;) {
		unsigned long l, c;
		char *end;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		l = strtoul(p, &end, 10);
		if (*end != '@' || !isdigit((unsigned char)end[1]))
			return -EINVAL;
		c = strtoul(end + 1, &end, 10);
		p = end;
		if (l > OR_CFG_MAX_LCORE || c > OR_CFG_MAX_LCORE ||
		    (*p != '\0' && *p != ' ' && *p != '\t' && *p != ','))
			return -EINVAL;
		for (unsigned i = 0; i < k; i++)
			if (out[i].lcore == l)
				return -EEXIST;
		if (k == max)
			return -E2BIG;
		out[k].lcore = (unsigned)l;
		out[k++].cpu = (unsigned)c;
	}
	if (k == 0)
		return -EINVAL;
	*n = k;
	return 0;
}
