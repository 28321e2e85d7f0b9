/* plugin.c: handlers from shared objects (tq-worker --plugin PATH.so) and
 * the tq_job side of tq.h that they call. A tq_job is the worker's hctx. */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "task.h"
#include "tq.h"
#include "worker.h"

struct plugin_handler {
	char		name[TASK_NAME_MAX + 1];
	tq_handler	fn;
};

static struct plugin_handler *ph;
static size_t nph;
static char loading[512];

static int
register_handler(const char *name, tq_handler fn)
{
	struct plugin_handler *p;
	size_t i;

	if (name == NULL || fn == NULL || !task_name_ok(name, TASK_NAME_MAX)) {
		log_error("event=plugin_register plugin=%s name=\"%s\" "
		    "error=\"bad name\"", loading, name ? name : "(null)");
		return -1;
	}
	for (i = 0; i < nph; i++)
		if (strcmp(ph[i].name, name) == 0) {
			log_error("event=plugin_register plugin=%s name=%s "
			    "error=\"registered twice\"", loading, name);
			return -1;
		}
	if ((p = reallocarray(ph, nph + 1, sizeof(*ph))) == NULL)
		return -1;
	ph = p;
	snprintf(ph[nph].name, sizeof(ph[nph].name), "%s", name);
	ph[nph].fn = fn;
	nph++;
	log_info("event=plugin_handler plugin=%s name=%s", loading, name);
	return 0;
}

int
plugin_load(const char *path, char *err, size_t errsz)
{
	int (*init)(tq_register_fn);
	void *h;

	/* RTLD_NOW: a missing symbol fails here, not mid-task. */
	if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errsz, "plugin \"%s\": %s", path, dlerror());
		return -1;
	}
	*(void **)(&init) = dlsym(h, "tq_plugin_init");
	if (init == NULL) {
		snprintf(err, errsz, "plugin \"%s\": no tq_plugin_init", path);
		dlclose(h);
		return -1;
	}
	snprintf(loading, sizeof(loading), "%s", path);
	if (init(register_handler) != 0) {
		snprintf(err, errsz, "plugin \"%s\": tq_plugin_init failed",
		    path);
		return -1;
	}
	return 0;
}


int
plugin_run(const char *name, struct hctx *h, int *found)
{
	size_t i;

	*found = 0;
	for (i = 0; i < nph; i++)
		if (strcmp(ph[i].name, name) == 0) {
			*found = 1;
			return ph[i].fn((tq_job *)h) == 0 ? 0 : -1;
		}
	return -1;
}

const void *
tq_job_payload(tq_job *j, size_t *len)
{
	struct hctx *h = (struct hctx *)j;

	if (len != NULL)
		*len = h->len;
	return h->payload;
}

const char *
tq_job_id(tq_job *j)
{
	return ((struct hctx *)j)->id;
}

const char *
tq_job_name(tq_job *j)
{
	return ((struct hctx *)j)->name;
}

unsigned
tq_job_attempt(tq_job *j)
{
	return ((struct hctx *)j)->attempt;
}

void
tq_job_progress(tq_job *j, unsigned pct, const char *msg)
{
	struct hctx *h = (struct hctx *)j;

	h->progress(h, pct, msg);
}

int
tq_job_result(tq_job *j, const void *p, size_t n)
{
	return buf_append(((struct hctx *)j)->result, p, n);
}

void
tq_job_error(tq_job *j, const char *fmt, ...)
{
	struct hctx *h = (struct hctx *)j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h->error, sizeof(h->error), fmt, ap);
	va_end(ap);
}

int
tq_job_cancelled(tq_job *j)
{
	return *((struct hctx *)j)->cancel != 0;
}
