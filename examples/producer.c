/*
 * producer.c: submits tasks with the tq C API and waits for their results.
 *
 *   cc producer.c -o producer $(pkg-config --cflags --libs tq)
 *   TQ_MYSQL_URL=... TQ_AMQP_URL=... ./producer NAME PAYLOAD...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tq.h"

int
main(int argc, char **argv)
{
	char err[512], state[16], (*ids)[TQ_ID_LEN + 1];
	struct tq_spec *specs;
	struct tq_info info;
	tq_client *tq;
	int i, n, bad = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: producer NAME PAYLOAD...\n");
		return 2;
	}
	if ((tq = tq_open(NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "producer: %s\n", err);
		return 100;
	}
	n = argc - 2;
	specs = calloc((size_t)n, sizeof(*specs));
	ids = calloc((size_t)n, sizeof(*ids));
	if (specs == NULL || ids == NULL)
		return 111;
	for (i = 0; i < n; i++) {
		specs[i].name = argv[1];
		specs[i].payload = argv[i + 2];
		specs[i].len = strlen(argv[i + 2]);
	}
	/* One transaction for all of them: durable when this returns. */
	if (tq_submit_many(tq, specs, (size_t)n, ids) == -1) {
		fprintf(stderr, "producer: submit: %s\n", tq_error(tq));
		return tq_error_temporary(tq) ? 111 : 100;
	}
	for (i = 0; i < n; i++) {
		if (tq_wait(tq, ids[i], 60, state) != 1) {
			fprintf(stderr, "producer: %s ended %s\n", ids[i], state);
			bad = 1;
			continue;
		}
		if (tq_get(tq, ids[i], &info) == 1) {
			printf("%s %.*s\n", ids[i], (int)info.result_len,
			    info.result ? (char *)info.result : "");
			tq_info_free(&info);
		}
	}
	tq_close(tq);
	free(specs);
	free(ids);
	return bad;
}
