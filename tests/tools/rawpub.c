/* rawpub: publishes raw bytes (or a crafted tq message) to a tq queue, for
 * tests of bad input and duplicates. Not installed.
 *
 *   rawpub QUEUE raw FILE|-          body = the bytes of FILE
 *   rawpub QUEUE task ID NAME PAYLOAD a well-formed message for ID
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "config.h"
#include "task.h"
#include "util.h"
#include "uuid.h"

int
main(int argc, char **argv)
{
	struct broker_opts o = BROKER_OPTS_DEFAULT;
	struct config cfg;
	struct broker_msg m;
	struct broker *b;
	struct buf body = BUF_INIT;
	struct url u;
	char err[TQ_ERRSZ];
	uint8_t *enc;
	long n;
	int temp;

	if (argc < 4) {
		fprintf(stderr, "usage: rawpub QUEUE raw FILE | "
		    "rawpub QUEUE task ID NAME PAYLOAD\n");
		return EXIT_USAGE;
	}
	if (config_load(&cfg, NULL, err, sizeof(err)) == -1 ||
	    config_urls(&cfg, &u, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "rawpub: %s\n", err);
		return EXIT_PERM;
	}
	o.quorum = strcmp(cfg.queue_type, "quorum") == 0;
	memset(&m, 0, sizeof(m));
	if (strcmp(argv[2], "raw") == 0) {
		if (read_file(argv[3], 64u << 20, &body) == -1) {
			perror(argv[3]);
			return EXIT_PERM;
		}
		if (uuid_v7(&m.id) == -1)
			return EXIT_TEMP;
	} else if (strcmp(argv[2], "task") == 0 && argc == 6) {
		if (uuid_parse(argv[3], &m.id) == -1) {
			fprintf(stderr, "rawpub: bad id\n");
			return EXIT_USAGE;
		}
		size_t sz = TASK_MSG_OVERHEAD + strlen(argv[4]) +
		    strlen(argv[5]);
		if ((enc = malloc(sz)) == NULL)
			return EXIT_TEMP;
		n = task_msg_encode(&m.id, argv[4], argv[5], strlen(argv[5]),
		    enc, sz);
		if (n < 0 || buf_append(&body, enc, (size_t)n) == -1)
			return EXIT_PERM;
		free(enc);
	} else {
		fprintf(stderr, "rawpub: bad arguments\n");
		return EXIT_USAGE;
	}
	if ((b = broker_open(&u, &o, err, sizeof(err), &temp)) == NULL) {
		fprintf(stderr, "rawpub: %s\n", err);
		return EXIT_TEMP;
	}
	m.queue = argv[1];
	m.body = body.data ? body.data : "";
	m.len = body.len;
	if (broker_declare(b, argv[1]) == -1 || broker_publish(b, &m, 1) != 1) {
		fprintf(stderr, "rawpub: %s\n", broker_errstr(b));
		return EXIT_TEMP;
	}
	broker_close(b);
	buf_release(&body);
	return 0;
}
