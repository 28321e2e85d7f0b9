/* store_sql.h: the texts of the store's statements that more than one place
 * reads: the files that run them and store_timed[] (store_inspect.c). */
#ifndef TQ_STORE_SQL_H
#define TQ_STORE_SQL_H

/*
 * The statements that run on a timer, named so that the EXPLAIN test
 * (store_timed[] in store_inspect.c, tests/tools/explain) reads the very
 * texts that run. Each is bounded by live work: an index range over the
 * states that are not terminal, a key lookup, or a small table; none reads
 * history.
 */
#define SQL_DUE \
	"(SELECT id, queue, name, payload, priority FROM tasks " \
	"WHERE state = 'scheduled' AND due_at <= NOW(6) " \
	"ORDER BY due_at LIMIT ?) UNION ALL " \
	"(SELECT id, queue, name, payload, priority FROM tasks " \
	"WHERE state = 'pending' AND due_at <= NOW(6) " \
	"ORDER BY due_at LIMIT ?)"
#define SQL_STRANDED_QUEUES \
	"SELECT queue FROM tasks WHERE state = 'queued' AND " \
	"due_at < NOW(6) - INTERVAL ? * 1000 MICROSECOND " \
	"ORDER BY due_at LIMIT 1000"
#define SQL_STRANDED \
	"SELECT id, queue, name, payload, priority FROM tasks " \
	"WHERE state = 'queued' AND due_at < NOW(6) - INTERVAL ? * 1000 " \
	"MICROSECOND AND queue = ? ORDER BY due_at LIMIT ?"
#define SQL_EXPIRED_LEASES \
	"SELECT id, fence FROM tasks WHERE state = 'running' AND " \
	"due_at < NOW(6) ORDER BY due_at LIMIT ?"
#define SQL_OWNED_NODE \
	"SELECT id, fence FROM tasks WHERE state = 'running' AND owner LIKE ?"
#define SQL_OWNED \
	"SELECT id, fence FROM tasks WHERE state = 'running' AND owner = ?"
#define SQL_RENEW_OWNERS \
	"UPDATE tasks SET due_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND " \
	"WHERE state = 'running' AND owner IN ("
#define SQL_RENEW \
	"UPDATE tasks SET due_at = NOW(6) + INTERVAL ? * 1000 MICROSECOND " \
	"WHERE state = 'running' AND (id, fence) IN ("
#define SQL_CANCEL_ASKED \
	"SELECT id, fence, owner FROM tasks WHERE state = 'running' AND " \
	"cancel_requested = 1 AND owner IN ("
#define SQL_DEAD_NODES \
	"SELECT name FROM tq_nodes WHERE seen_at < NOW(6) - " \
	"INTERVAL ? * 1000 MICROSECOND"
/* The row's instance is info up to a '|' (store.h). */
#define SQL_NODE_BEAT \
	"UPDATE tq_nodes SET seen_at = NOW(6), info = ? WHERE name = ? AND " \
	"SUBSTRING_INDEX(info, '|', 1) = ?"
#define SQL_NODE_LEAVE \
	"DELETE FROM tq_nodes WHERE name = ? AND " \
	"SUBSTRING_INDEX(info, '|', 1) = ?"
#define SQL_CRON_DUE \
	"SELECT name, spec, queue, task, payload, " \
	"UNIX_TIMESTAMP(next_tick) DIV 1 FROM tq_cron " \
	"WHERE next_tick <= NOW(6) ORDER BY next_tick LIMIT 100"
/* Live counts: the states that are not terminal, an index-only range. */
#define SQL_LIVE \
	"SELECT queue, state, COUNT(*) FROM tasks " \
	"WHERE state IN ('pending', 'queued', 'scheduled', 'running') " \
	"GROUP BY state, queue"
/* Finished tasks are counted as they finish (tq_rollup), by the hour. */
#define SQL_ROLLUP_SINCE \
	"SELECT queue, outcome, UNIX_TIMESTAMP(hour) DIV 1, SUM(n) " \
	"FROM tq_rollup WHERE hour >= FROM_UNIXTIME(?) " \
	"GROUP BY hour, queue, outcome"
/* The retention windows' counts (tq_window): the last hour closed, each
 * row's old edge moved by the hours between two marks (a range of
 * tq_rollup's key), the hours between the last two closings added. */
#define SQL_WINDOW_CLOSED \
	"SELECT UNIX_TIMESTAMP(closed) DIV 1 FROM tq_window_closed WHERE id = 1"
#define SQL_WINDOW_ROWS \
	"SELECT queue, outcome, UNIX_TIMESTAMP(expired) DIV 1, GREATEST(n, 0) " \
	"FROM tq_window"
#define SQL_WINDOW_MOVE \
	"UPDATE tq_window SET n = n + ? * (SELECT IFNULL(SUM(r.n), 0) " \
	"FROM tq_rollup r WHERE r.hour > FROM_UNIXTIME(?) " \
	"AND r.hour <= FROM_UNIXTIME(?) AND r.queue = ? AND r.outcome = ?), " \
	"expired = FROM_UNIXTIME(?) " \
	"WHERE queue = ? AND outcome = ? AND expired = FROM_UNIXTIME(?)"
#define SQL_WINDOW_ADD \
	"INSERT INTO tq_window (queue, outcome, n, expired) " \
	"SELECT queue, outcome, SUM(n), FROM_UNIXTIME(?) FROM tq_rollup " \
	"WHERE hour > FROM_UNIXTIME(?) AND hour <= FROM_UNIXTIME(?) " \
	"AND outcome <> 'retried' GROUP BY queue, outcome " \
	"ON DUPLICATE KEY UPDATE n = tq_window.n + VALUES(n)"
/* Retention: the queues that hold finished rows, with the oldest of each
 * (a loose index scan: one step per state and queue, whatever the rows),
 * then the oldest rows of one queue. A parent that a child still waits
 * for is kept. */
#define SQL_DONE_QUEUES \
	"SELECT state, queue, UNIX_TIMESTAMP(MIN(finished_at)) FROM tasks " \
	"WHERE state IN ('succeeded', 'failed', 'cancelled') " \
	"GROUP BY state, queue"
#define SQL_EXPIRED \
	"SELECT id, has_children FROM tasks WHERE state = ? AND queue = ? " \
	"AND finished_at < NOW(6) - INTERVAL ? * 1000 MICROSECOND " \
	"ORDER BY finished_at LIMIT ? FOR UPDATE"
/* Of these parents, those that a child still waits for. */
#define SQL_WAITED_FOR \
	"SELECT DISTINCT d.parent FROM task_deps d STRAIGHT_JOIN tasks c " \
	"ON c.id = d.child WHERE c.state IN ('pending', 'queued', " \
	"'scheduled', 'running') AND d.parent IN ("
/* Scheduled tasks with a due time (not children waiting for parents),
 * soonest first: a range of (state, due_at). */
#define SQL_SCHEDULED_IDS \
	"SELECT id FROM tasks WHERE state = 'scheduled' AND due_at IS NOT " \
	"NULL AND (? = '' OR queue = ?) ORDER BY due_at LIMIT ?"
#define SQL_FAILED_QUEUE \
	"SELECT id, UNIX_TIMESTAMP(finished_at) FROM tasks " \
	"WHERE state = 'failed' AND queue = ? ORDER BY finished_at DESC LIMIT ?"

/* Per task, not on a timer, but once a scan of task_runs (see
 * finish_successes). */
#define SQL_RUNS_DONE_ONE \
	"UPDATE task_runs SET outcome = 'succeeded', finished_at = NOW(6) " \
	"WHERE task_id = ? AND fence = ?"
#define SQL_RUNS_DONE \
	"UPDATE task_runs SET outcome = 'succeeded', finished_at = NOW(6) " \
	"WHERE (task_id, fence) IN ("

/* tq web. Its pages poll these every second: each is a key lookup, a
 * range of an index bounded by LIMIT, an index range over the states that
 * are not terminal, or a small table. Task lists page by key, never by
 * OFFSET: by id (newest first) where the states are live or any, and by
 * (finished_at, id) within one terminal state and queue, the order of
 * tasks_state_queue. */
#define WEB_TS(c) "DATE_FORMAT(" c ", '%Y-%m-%dT%H:%i:%s.%fZ')"
#define WEB_TASK_COLS \
	"SELECT id, queue, name, state, attempts, max_attempts, progress, " \
	WEB_TS("created_at") ", " WEB_TS("finished_at") ", " \
	"LEFT(error, 300), " WEB_TS("due_at") ", waiting, " \
	"DATE_FORMAT(finished_at, '%Y-%m-%d %H:%i:%s.%f') " \
	"FROM tasks "
#define SQL_WEB_TASKS_ANY \
	WEB_TASK_COLS "WHERE id < ? ORDER BY id DESC LIMIT ?"
#define SQL_WEB_TASKS_LIVE \
	WEB_TASK_COLS "WHERE state = ? AND id < ? AND (? = '' OR queue = ?) " \
	"AND (? = '' OR name = ?) ORDER BY id DESC LIMIT ?"
#define SQL_WEB_TASKS_DONE \
	WEB_TASK_COLS "WHERE state = ? AND queue = ? AND (finished_at < ? OR " \
	"(finished_at = ? AND id < ?)) ORDER BY finished_at DESC, id DESC " \
	"LIMIT ?"
#define SQL_WEB_NODES \
	"SELECT name, " WEB_TS("started_at") ", " WEB_TS("seen_at") ", " \
	"TIMESTAMPDIFF(MICROSECOND, seen_at, NOW(6)) DIV 1000, info " \
	"FROM tq_nodes ORDER BY name LIMIT 1000"
#define SQL_WEB_LEADER \
	"SELECT name, holder, token, " WEB_TS("expires_at") ", " \
	"IFNULL(expires_at > NOW(6), 0) FROM tq_leader ORDER BY name"
#define SQL_WEB_RUNNING \
	"SELECT owner, id, queue, name, progress, progress_msg, " \
	WEB_TS("started_at") ", " \
	"TIMESTAMPDIFF(MICROSECOND, NOW(6), due_at) DIV 1000 FROM tasks " \
	"WHERE state = 'running' ORDER BY due_at LIMIT ?"
#define SQL_WEB_RUNS \
	"SELECT fence, attempt, owner, outcome, LEFT(error, 2000), " \
	WEB_TS("started_at") ", " WEB_TS("finished_at") " FROM task_runs " \
	"WHERE task_id = ? ORDER BY fence DESC LIMIT 100"
#define SQL_WEB_PARENTS \
	"SELECT d.parent, t.state, t.name FROM task_deps d LEFT JOIN tasks t " \
	"ON t.id = d.parent WHERE d.child = ? LIMIT 100"
#define SQL_WEB_CHILDREN \
	"SELECT d.child, t.state, t.name FROM task_deps d LEFT JOIN tasks t " \
	"ON t.id = d.child WHERE d.parent = ? LIMIT 100"
#define SQL_WEB_CRON_OF \
	"SELECT name, DATE_FORMAT(tick, '%Y-%m-%dT%H:%i:%sZ') " \
	"FROM tq_cron_ticks WHERE task_id = ? LIMIT 1"
#define SQL_WEB_CRON_TICKS \
	"SELECT DATE_FORMAT(k.tick, '%Y-%m-%dT%H:%i:%sZ'), k.task_id, " \
	"t.state FROM tq_cron_ticks k LEFT JOIN tasks t ON t.id = k.task_id " \
	"WHERE k.name = ? ORDER BY k.tick DESC LIMIT ?"

/* Flow control (store_limit.c): each a range of tasks_limit over live
 * rows. */
#define SQL_LIMIT_RUNNING \
	"SELECT limit_key, COUNT(*) FROM tasks WHERE " \
	"limit_state = 'running' AND limit_key IN ("
#define SQL_LIMIT_RUNNING_TAIL	") GROUP BY limit_key"
#define SQL_LIMIT_KEYS_LOCK \
	"SELECT lkey, tat, CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED), " \
	"start_tat FROM tq_limit_keys WHERE lkey IN ("
#define SQL_LIMIT_KEYS_LOCK_TAIL	") ORDER BY lkey FOR UPDATE"
#define SQL_LIMIT_WAITERS \
	"SELECT id, fence FROM tasks WHERE limit_state = 'scheduled' AND " \
	"limit_key = ? AND limit_wait = 1 ORDER BY id LIMIT ? FOR UPDATE"
#define SQL_LIMIT_LIVE \
	"SELECT limit_state, limit_key, limit_wait, COUNT(*) FROM tasks " \
	"WHERE limit_state = 'running' OR (limit_state = 'scheduled' AND " \
	"limit_wait > 0) GROUP BY limit_key, limit_state, limit_wait " \
	"ORDER BY limit_key"
#define SQL_PAUSED_LIST \
	"SELECT queue, paused_by, UNIX_TIMESTAMP(paused_at) DIV 1 " \
	"FROM tq_paused ORDER BY queue"

/* tq web: the latest finished tasks of a queue, newest first, for the
 * percentiles of their queue wait and run time (a range of (state, queue,
 * finished_at) cut by the LIMIT). */
#define SQL_WEB_RECENT \
	"SELECT TIMESTAMPDIFF(MICROSECOND, created_at, started_at), " \
	"TIMESTAMPDIFF(MICROSECOND, started_at, finished_at), attempts " \
	"FROM tasks WHERE state = 'succeeded' AND queue = ? " \
	"ORDER BY finished_at DESC LIMIT ?"

#endif
