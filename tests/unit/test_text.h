/* Text checks shared by the unit tests of exported text (the /metrics
 * text, optroutectl's output). */
#ifndef TEST_TEXT_H
#define TEST_TEXT_H

#include <string.h>

/* 1 if text has the line exactly (between line starts and a '\n'). */
static inline int
tt_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p += n;
	}
	return 0;
}

#endif
