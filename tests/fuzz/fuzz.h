/* fuzz.h: what the fuzz targets share. */
#ifndef TQ_FUZZ_H
#define TQ_FUZZ_H

#include <stdlib.h>
#include <string.h>

/* FUZZ_SKIP=name[,name]: leave out the checks of known, reported findings
 * (see README) so that fuzzing goes on past them. */
static inline int
skipped(const char *name)
{
	const char *s = getenv("FUZZ_SKIP"), *p;
	size_t n = strlen(name);

	for (p = s; p != NULL && *p; p += strcspn(p, ","), p += *p == ',')
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

#endif
