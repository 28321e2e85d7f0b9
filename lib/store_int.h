/* store_int.h: the store's private header, shared by lib/store*.c and by
 * nothing else (not installed): struct store, the statements core and the
 * helpers that more than one of those files calls. */
#ifndef TQ_STORE_INT_H
#define TQ_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "store.h"
#include "util.h"

/* The helpers below are extern for the store's files only. In libtq.a
 * their symbols carry a store_ prefix, so that a program linking it may
 * name its own functions q or oom (libtq.so exports tq.h's alone). */
#define bucket           store_bucket
#define copy_col         store_copy_col
#define deps_settle      store_deps_settle
#define id_cmp           store_id_cmp
#define insert_chunk     store_insert_chunk
#define limit_claim      store_limit_claim
#define limit_free       store_limit_free
#define oom              store_oom
#define owned_row        store_owned_row
#define p_blob           store_p_blob
#define p_id             store_p_id
#define p_ids            store_p_ids
#define p_int            store_p_int
#define p_str            store_p_str
#define params_init      store_params_init
#define params_release   store_params_release
#define placeholders     store_placeholders
#define q                store_q
#define rollup_one       store_rollup_one
#define scan_grow        store_scan_grow
#define settle_if_parent store_settle_if_parent
#define state_row        store_state_row
#define stmt_forget      store_stmt_forget
#define stmt_rows        store_stmt_rows
#define stmt_run         store_stmt_run
#define txn_again        store_txn_again
#define txn_begin        store_txn_begin
#define txn_commit       store_txn_commit
#define txn_rollback     store_txn_rollback
#define u64_of           store_u64_of
#define uns_of           store_uns_of
#define update_ids       store_update_ids
#define uuid_zero        store_uuid_zero

#define STMT_CACHE	128

struct stmt_ent {
	char		*sql;
	MYSQL_STMT	*st;
	uint64_t	 used;
};

struct store {
	MYSQL		*db;
	struct url	 url;
	struct tls_opts	 tls;
	char		 err[TQ_ERRSZ];
	unsigned	 errnum;
	int		 err_temp;
	struct stmt_ent	 cache[STMT_CACHE];
	uint64_t	 tick;
	unsigned long	 deadlocks;
	/* tasks let out of a limit's wait, for store_woken */
	struct uuid	*woken;
	size_t		 nwoken, woken_cap;
};

/* Input parameters, with room for their values. */
struct params {
	MYSQL_BIND	*b;
	unsigned long	*len;
	long long	*iv;
	size_t		 n, cap;
};

/* Columns of one fetched row: NULL pointer for SQL NULL, always
 * NUL-terminated. */
struct row {
	char		**col;
	unsigned long	 *len;
	unsigned	  n;
};
typedef int (*row_fn)(void *arg, struct row *);

/* Rows of (id, fence[, owner]): with_owner keeps the third column. */
struct owned_scan {
	struct uuid	*ids;
	uint64_t	*fences;
	char		(*owners)[129];
	size_t		 n, cap;	/* cap: of ids */
	int		 with_owner;
	size_t		 fcap, ocap;	/* of fences, of owners */
};

/* store.c: errors, statements, parameters, transactions, columns, the
 * row scanners that several files use. */
int		 oom(struct store *);
MYSQL_STMT	*stmt_run(struct store *, const char *sql, struct params *,
		    unsigned long long *affected);
int		 stmt_rows(struct store *, MYSQL_STMT *, row_fn, void *arg);
/* For a row scanner: room for row n in *rowsp (the address of a pointer
 * to an array of *cap rows of size bytes, of any type), doubled when it
 * is full. 0, or -1 out of memory (*rowsp and *cap unchanged). */
int		 scan_grow(void *rowsp, size_t *cap, size_t n, size_t size);
void		 stmt_forget(struct store *, const char *sql);
int		 params_init(struct params *, size_t cap);
void		 params_release(struct params *);
void		 p_blob(struct params *, const void *, size_t n);
void		 p_str(struct params *, const char *);
void		 p_id(struct params *, const struct uuid *);
void		 p_int(struct params *, long long);
size_t		 bucket(size_t n);
void		 p_ids(struct params *, const struct uuid *, size_t n);
int		 placeholders(struct buf *, const char *head, const char *one,
		    size_t n, const char *tail);
int		 q(struct store *, const char *sql);
int		 txn_begin(struct store *);
int		 txn_commit(struct store *);
void		 txn_rollback(struct store *);
int		 txn_again(struct store *, int *tries);
int		 id_cmp(const void *, const void *);
void		 copy_col(char *dst, size_t sz, const char *src);
int		 u64_of(const char *, uint64_t *);
unsigned	 uns_of(const char *);
int		 state_row(void *, struct row *);
int		 owned_row(void *, struct row *);

/* store_submit.c: the insert, and the parents' side of dependencies. */
int	uuid_zero(const struct uuid *);
int	insert_chunk(struct store *, struct task_new *, size_t n,
	    int64_t grace_ms, struct buf *sql);
int	update_ids(struct store *, const char *head, const char *tail,
	    struct uuid *ids, size_t n, long long *pre, size_t npre);
int	deps_settle(struct store *, const struct uuid *parent,
	    enum task_state, int depth);
int	settle_if_parent(struct store *, const struct uuid *,
	    enum task_state);

/* store_limit.c: in the claim's transaction, admits or parks c[0..n)
 * (sorted) under their limits and the queue's pause; in a finish's or a
 * release's, the slots keys[0..n) held (a key once per task) are freed
 * and their oldest waiters made due. */
int	limit_claim(struct store *, struct claim *c, size_t n, struct buf *,
	    struct params *);
int	limit_free(struct store *, char (*keys)[TASK_LIMIT_KEY_MAX + 1],
	    size_t n);

/* store_rollup.c */
int	rollup_one(struct store *, const struct uuid *, const char *outcome);

#endif
