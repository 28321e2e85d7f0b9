/* inifile.h: a strict INI reader: [section], key = value, ; or # comments
 * on their own lines or after a blank at the end of one. Lines up to 8 KiB; anything else is an error that
 * names the line. */
#ifndef TQ_INIFILE_H
#define TQ_INIFILE_H

#include <stddef.h>

/* Called per key; returns 0, or -1 with the reason in err. */
typedef int (*inifile_fn)(void *arg, const char *section, const char *key,
    const char *value, char *err, size_t errsz);

/* 0, or -1 with "FILE:LINE: reason" (or "FILE: strerror") in err. */
int	inifile_parse(const char *path, inifile_fn, void *arg, char *err,
	    size_t errsz);

#endif
