/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A TCP listen address (include/optroute/listen.h): parsing, the loopback
 * test behind optroute-exporter's allow_remote, text form. Pure; unit
 * tested by tests/unit/test_metrics.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "optroute/listen.h"

static int
or_listen_port(const char *s, uint16_t *port)
{
	unsigned v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i == 5)
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (i == 0 || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int
or_listen_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN];
	const char *port, *end;
	uint16_t p;
	size_t hl;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (end == NULL || end[1] != ':')
			return -EINVAL;
		hl = (size_t)(end - s - 1);
		port = end + 2;
	} else if ((end = strchr(s, ':')) != NULL) {
		if (strchr(end + 1, ':') != NULL)
			return -EINVAL; /* IPv6 needs brackets */
		hl = (size_t)(end - s);
		port = end + 1;
	} else {
		end = NULL;
		hl = 0;
		port = s;
	}
	if (or_listen_port(port, &p) < 0)
		return -EINVAL;
	if (end == NULL) {
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons(p);
		*len = sizeof(*in);
		return 0;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s[0] == '[' ? s + 1 : s, hl);
	host[hl] = '\0';
	if (s[0] == '[') {
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		*len = sizeof(*in6);
		return 0;
	}
	/* inet_pton takes dotted quads only: no "127.1", no octal. */
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
		return -EINVAL;
	in->sin_family = AF_INET;
	in->sin_port = htons(p);
	*len = sizeof(*in);
	return 0;
}

int
or_listen_is_loopback(const struct sockaddr_storage *ss)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;

	if (ss->ss_family == AF_INET)
		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
		       (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
			in6->sin6_addr.s6_addr[12] == 127);
	return 0;
}

void
or_listen_str(const struct sockaddr_storage *ss, char buf[OR_LISTEN_STR_LEN])
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a));
		snprintf(buf, OR_LISTEN_STR_LEN, "[%s]:%u", a,
			 ntohs(in6->sin6_port));
	} else {
		inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a));
		snprintf(buf, OR_LISTEN_STR_LEN, "%s:%u", a,
			 ntohs(in->sin_port));
	}
}
