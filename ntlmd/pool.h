/*
 * pool.h: ntlmd's store workers, a fixed pool of threads that run the
 * calls that may wait (a directory search, a write-back, a password file
 * edit, an NSS group list), so that the event loop never does.
 *
 * The loop submits jobs and takes them back, done, through one
 * descriptor that it watches in epoll (an eventfd: readable while done
 * jobs wait). A job is anything with a struct ntlmd_job inside; the pool
 * knows nothing else of it. Jobs wait in one queue per caller uid, and
 * the workers take the uids in turn (round robin), so that one caller's
 * burst of slow lookups never holds up another caller's lookup for more
 * than one job each; jobs of no caller (write-backs) wait in the pool's
 * own queue, which takes its turn as one more uid. Each job belongs to the loop before submit and after
 * done, to its worker in between: the pool locks only its own lists.
 */
#ifndef PAM_NTLM_NTLMD_POOL_H
#define PAM_NTLM_NTLMD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ntlmd_job {
	struct ntlmd_job *next; /* the pool's */
	uint32_t uid;           /* the caller it is done for: its turn in the queue */
	int kind;               /* the owner's: what the job is */
	bool cancelled;         /* the pool stopped before a worker ran it */
	/* In a worker: the work, which may wait. */
	void (*run)(struct ntlmd_job *job);
};

struct ntlmd_pool;

/*
 * Starts `workers` threads (at least 1) with every signal blocked (the loop
 * reads them from its signalfd). A uid may have at most per_uid jobs
 * waiting for a worker (0: no limit). NULL with errno on failure.
 */
struct ntlmd_pool *ntlmd_pool_new(unsigned workers, size_t per_uid);
/* The descriptor to watch for reading: done jobs wait. */
int ntlmd_pool_fd(const struct ntlmd_pool *p);
/* Queues job for a worker; false (job untouched) when its uid has per_uid
 * jobs waiting already. */
bool ntlmd_pool_submit(struct ntlmd_pool *p, struct ntlmd_job *job);
/* Queues job in the pool's own queue, for work no caller waits for (the
 * lockout write-backs): outside every uid's cap, so that a caller's own
 * lookups cannot crowd it out, at most limit jobs waiting there (false,
 * job untouched, when full). It takes its turn with the uids' queues, as
 * one more uid. */
bool ntlmd_pool_submit_own(struct ntlmd_pool *p, struct ntlmd_job *job, size_t limit);
/* Takes back a job nobody waits for any more (its client left, its
 * deadline passed): true when it was still queued, now out of its queue
 * and the caller's again (it never comes through ntlmd_pool_done); false
 * when a worker took it already: it comes back done, as every job (and
 * with a NULL pool). */
bool ntlmd_pool_cancel(struct ntlmd_pool *p, struct ntlmd_job *job);
/* The next done job, or NULL when none is (then the descriptor is read
 * empty): call it until NULL after the descriptor became readable. */
struct ntlmd_job *ntlmd_pool_done(struct ntlmd_pool *p);
/* Jobs queued and not yet taken by a worker; jobs a worker runs now. */
size_t ntlmd_pool_queued(struct ntlmd_pool *p);
unsigned ntlmd_pool_running(struct ntlmd_pool *p);
/* The worker threads the pool runs (fixed when it is made: a reload keeps
 * them, whatever store_workers now says). */
unsigned ntlmd_pool_workers(const struct ntlmd_pool *p);
/*
 * Stops the pool: each worker finishes the job it runs (a directory
 * search ends within its timelimit) and exits; jobs no worker took come
 * back through ntlmd_pool_done with cancelled set. Take them all, then
 * free. NULL-safe.
 */
void ntlmd_pool_stop(struct ntlmd_pool *p);
void ntlmd_pool_free(struct ntlmd_pool *p);

#endif /* PAM_NTLM_NTLMD_POOL_H */
