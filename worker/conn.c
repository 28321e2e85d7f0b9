/*
 * conn.c: the consumer's broker connection and the store's database
 * connection, lost and made again with backoff; after every reconnect
 * the queue is declared and consumed again.
 */
#include <stdio.h>

#include "log.h"
#include "worker_int.h"

static int64_t
retry_delay(unsigned fails)
{
	/* 100 ms doubling to 5 s, full jitter, never 0. */
	return backoff_ms(100, 5000, fails) + 50;
}

/* The consumer goes; unacked deliveries come back to someone when the
 * channel dies. */
static void
consumer_drop(void)
{
	size_t i;

	for (i = 0; i < W.npend; i++)
		delivery_release(&W.pend[i]);
	W.npend = 0;
	W.conn_gen++;
	broker_close(W.consumer);
	W.consumer = NULL;
}

void
conn_broker_lost(const char *why)
{
	log_warnx("event=broker_lost error=\"%s\" dropped_deliveries=%zu", why,
	    W.npend);
	consumer_drop();
	W.broker_at = now_ms() + retry_delay(W.broker_fails++);
}

/* The queue is paused: the consumer goes, and with it the deliveries not
 * settled (the broker keeps them for after the resume); the pause is
 * looked at again every PAUSE_POLL_MS. */
void
conn_pause(void)
{
	if (!W.paused)
		log_info("event=queue_paused queue=%s action=stop_consuming "
		    "returned=%zu", W.cfg.queue, W.npend);
	W.paused = 1;
	W.pause_poll = now_ms() + PAUSE_POLL_MS;
	consumer_drop();
}

/* Paused: whether the queue was resumed. */
void
conn_pause_poll(void)
{
	int r;

	W.pause_poll = now_ms() + PAUSE_POLL_MS;
	if ((r = store_paused(W.cl.store, W.cfg.queue)) == -1) {
		conn_db_error("pause poll");
		return;
	}
	if (r == 0) {
		log_info("event=queue_resumed queue=%s", W.cfg.queue);
		W.paused = 0;
		W.broker_at = 0;
	}
}

void
conn_broker_open(void)
{
	char err[TQ_ERRSZ];
	int temp;

	W.consumer = client_broker_open(&W.cl, err, sizeof(err), &temp);
	if (W.consumer == NULL) {
		if (W.broker_fails == 0 || (W.broker_fails % 20) == 0)
			log_warnx("event=broker_connect_failed error=\"%s\"",
			    err);
		W.broker_at = now_ms() + retry_delay(W.broker_fails++);
		return;
	}
	/* After every reconnect: declare and consume again. */
	if (broker_declare(W.consumer, W.cfg.queue) == -1 ||
	    broker_consume(W.consumer, W.cfg.queue, (int)W.cfg.prefetch) == -1) {
		conn_broker_lost(broker_errstr(W.consumer));
		return;
	}
	if (W.broker_fails > 0)
		log_info("event=broker_reconnected queue=%s after_failures=%u",
		    W.cfg.queue, W.broker_fails);
	else
		log_info("event=consuming queue=%s prefetch=%lld owner=%s",
		    W.cfg.queue, W.cfg.prefetch, W.owner);
	W.broker_fails = 0;
}

static void
db_lost(const char *why)
{
	log_warnx("event=db_lost error=\"%s\"", why);
	store_close(W.cl.store);
	W.cl.store = NULL;
	W.db_at = now_ms() + retry_delay(W.db_fails++);
}

int
conn_db_ready(void)
{
	if (W.cl.store != NULL)
		return 1;
	if (now_ms() < W.db_at)
		return 0;
	if (client_store(&W.cl) == -1) {
		if (W.db_fails == 0 || (W.db_fails % 20) == 0)
			log_warnx("event=db_connect_failed error=\"%s\"",
			    W.cl.err);
		W.db_at = now_ms() + retry_delay(W.db_fails++);
		return 0;
	}
	if (W.db_fails > 0)
		log_info("event=db_reconnected after_failures=%u", W.db_fails);
	W.db_fails = 0;
	return 1;
}

/* A store error: connection-level ones drop the connection. */
void
conn_db_error(const char *op)
{
	char why[TQ_ERRSZ + 64];

	snprintf(why, sizeof(why), "%s: %s", op, store_errstr(W.cl.store));
	if (store_err_temporary(W.cl.store))
		db_lost(why);
	else {
		/* Not a lost connection, yet not ours to fix: back off, and
		 * start over with a fresh connection. */
		log_error("event=db_error error=\"%s\"", why);
		db_lost(why);
	}
}
