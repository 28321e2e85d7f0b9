/* inifile.c: small enough to read in one sitting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inifile.h"

#define LINE_MAX_LEN	8192

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
	    e[-1] == '\n'))
		*--e = '\0';
	return s;
}

int
inifile_parse(const char *path, inifile_fn fn, void *arg, char *err,
    size_t errsz)
{
	char line[LINE_MAX_LEN + 2], section[256] = "", why[512], *p, *eq;
	char *raw = NULL;
	int lineno = 0, ret = -1;
	size_t n, cap = 0;
	ssize_t got;
	FILE *fp;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errsz, "config \"%s\": %s", path, strerror(errno));
		return -1;
	}
	while ((got = getline(&raw, &cap, fp)) != -1) {
		lineno++;
		n = (size_t)got;
		if (n > 0 && raw[n - 1] == '\n')
			n--;
		if (n > LINE_MAX_LEN) {
			snprintf(err, errsz, "%s:%d: line longer than %d bytes",
			    path, lineno, LINE_MAX_LEN);
			goto done;
		}
		/* getline counts every byte: a NUL cannot hide the rest. */
		if (memchr(raw, '\0', n) != NULL) {
			snprintf(err, errsz, "%s:%d: NUL byte", path, lineno);
			goto done;
		}
		memcpy(line, raw, n);
		line[n] = '\0';
		p = trim(line);
		if (*p == '\0' || *p == ';' || *p == '#')
			continue;
		/* An inline comment starts at a ';' or '#' after a blank. */
		for (char *q = p + 1; *q; q++)
			if ((*q == ';' || *q == '#') && (q[-1] == ' ' ||
			    q[-1] == '\t')) {
				*q = '\0';
				p = trim(p);
				break;
			}
		if (*p == '[') {
			n = strlen(p);
			if (p[n - 1] != ']' || n < 3 || n - 2 >= sizeof(section)) {
				snprintf(err, errsz, "%s:%d: bad section header",
				    path, lineno);
				goto done;
			}
			p[n - 1] = '\0';
			snprintf(section, sizeof(section), "%s", trim(p + 1));
			continue;
		}
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errsz, "%s:%d: expected key = value", path,
			    lineno);
			goto done;
		}
		*eq = '\0';
		if (*trim(p) == '\0') {
			snprintf(err, errsz, "%s:%d: missing key", path, lineno);
			goto done;
		}
		if (fn(arg, section, trim(p), trim(eq + 1), why,
		    sizeof(why)) == -1) {
			snprintf(err, errsz, "%s:%d: %s", path, lineno, why);
			goto done;
		}
	}
	if (ferror(fp)) {
		snprintf(err, errsz, "config \"%s\": %s", path, strerror(errno));
		goto done;
	}
	ret = 0;
done:
	free(raw);
	fclose(fp);
	return ret;
}
