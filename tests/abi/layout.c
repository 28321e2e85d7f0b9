/*
 * layout.c: the frozen parts of tq.h's ABI stay where 1.0 put them, and
 * libtq.so reads struct tq_task by its size field. Linked against
 * libtq.so as a user's program is; needs no server (every call here
 * fails before connecting).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tq.h"

/* libtq 1.0 on LP64. A failing assertion here is a new soname. */
_Static_assert(sizeof(struct tq_spec) == 48, "struct tq_spec changed");
_Static_assert(offsetof(struct tq_spec, delay_s) == 40, "tq_spec.delay_s");
_Static_assert(sizeof(struct tq_info) == 56, "struct tq_info changed");
_Static_assert(offsetof(struct tq_info, result) == 32, "tq_info.result");
_Static_assert(offsetof(struct tq_info, error) == 48, "tq_info.error");
_Static_assert(offsetof(struct tq_task, size) == 0, "tq_task.size");
_Static_assert(offsetof(struct tq_task, set) == 8, "tq_task.set");
_Static_assert(offsetof(struct tq_task, name) == 24, "tq_task.name");
_Static_assert(offsetof(struct tq_task, at) == 64, "tq_task.at");
_Static_assert(offsetof(struct tq_task, priority) == 96, "tq_task.priority");
_Static_assert(offsetof(struct tq_task, key) == 104, "tq_task.key");
_Static_assert(offsetof(struct tq_task, nafter) == 120, "tq_task.nafter");
_Static_assert(sizeof(struct tq_task) >= 128, "struct tq_task shrank");
/* libtq 1.1 */
_Static_assert(offsetof(struct tq_task, limit_key) == 128, "tq_task.limit_key");
_Static_assert(TQ_ID_LEN == 36 && TQ_SET_BACKOFF == 1 &&
    TQ_SET_PRIORITY == 2 && TQ_AFTER_MAX == 64, "a constant changed");

static int failures;

/* Submitting task (of size bytes, in an array of n) fails with an error
 * containing want. */
static void
expect(tq_client *tq, const void *tasks, size_t n, const char *want,
    const char *what)
{
	char (*ids)[TQ_ID_LEN + 1];

	if ((ids = calloc(n, sizeof(*ids))) == NULL)
		exit(111);
	if (tq_submit_tasks(tq, tasks, n, ids) != -1 ||
	    strstr(tq_error(tq), want) == NULL || tq_error_temporary(tq)) {
		fprintf(stderr, "FAIL abi: %s: want an error with \"%s\", "
		    "got \"%s\"\n", what, want, tq_error(tq));
		failures++;
	}
	free(ids);
}

int
main(void)
{
	struct tq_task t = TQ_TASK_INIT, two[2];
	unsigned char *big;
	char err[512];
	tq_client *tq;

	/* Opening connects nothing. */
	if ((tq = tq_open(NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "FAIL abi: tq_open: %s\n", err);
		return 1;
	}
	/* A bad name is refused before anything is connected: the error
	 * shows how far a struct was read. */
	t.name = "bad name";
	expect(tq, &t, 1, "bad task name", "this size");
	t.size = 0;
	expect(tq, &t, 1, "too small", "size 0");
	/* A newer caller's longer struct: its unknown tail must be zero. */
	if ((big = calloc(1, sizeof(t) + 16)) == NULL)
		return 111;
	t.size = sizeof(t) + 16;
	memcpy(big, &t, sizeof(t));
	expect(tq, big, 1, "bad task name", "longer, zero tail");
	big[sizeof(t) + 3] = 1;
	expect(tq, big, 1, "does not have", "longer, tail set");
	/* A 1.0 caller's struct (it ends before limit_key) is taken. */
	t.size = offsetof(struct tq_task, limit_key);
	expect(tq, &t, 1, "bad task name", "a 1.0 struct");
	t.size = sizeof(t);
	t.name = "ok";
	t.limit_key = "bad key";
	expect(tq, &t, 1, "bad limit key", "limit key");
	t.limit_key = NULL;
	t.name = "bad name";
	/* Elements of different sizes. */
	two[0] = t;
	two[0].size = sizeof(t);
	two[1] = two[0];
	two[1].size = sizeof(t) - 8;
	expect(tq, two, 2, "task 1: struct tq_task of", "mixed sizes");
	/* Options are checked as tq submit checks its flags. */
	two[1].size = sizeof(t);
	two[1].name = "ok";
	two[0].name = "ok";
	two[1].set = TQ_SET_PRIORITY;
	two[1].priority = 10;
	expect(tq, two, 2, "task 1: priority 10 is not 0..9", "priority");
	two[1].set = 0;
	two[1].delay_s = 5;
	two[1].at = 1e9;
	expect(tq, two, 2, "delay and at", "delay and at");
	two[1].at = 0;
	two[1].key = "";
	expect(tq, two, 2, "key: 1 to 255", "empty key");
	two[1].key = NULL;
	{
		const char *after[] = { "not-an-id" };

		two[1].after = after;
		two[1].nafter = 1;
		expect(tq, two, 2, "\"not-an-id\" is not a task id", "after");
	}
	two[1].nafter = TQ_AFTER_MAX + 1;
	expect(tq, two, 2, "at most 64", "too many parents");
	two[1].nafter = 0;
	two[1].set = TQ_SET_BACKOFF;
	two[1].backoff_base_s = 10;
	two[1].backoff_cap_s = 1;
	expect(tq, two, 2, "backoff cap below base", "backoff");
	free(big);
	tq_close(tq);
	if (failures)
		return 1;
	printf("abi: frozen layouts in place, struct tq_task read by size\n");
	return 0;
}
