/*
** rtint.h -- what the runtime's files share inside the layer (runtime.c,
** rttask.c, rtdispatch.c, rtrun.c): never included outside host/src/rt/.
*/
#ifndef DES_RTINT_H
#define DES_RTINT_H

#include "runtime.h"

/* LUA_EXTRASPACE of a thread in the pool (a task's holds slot + 1) */
#define RT_EXTRA_POOLED UINTPTR_MAX
/* ... and of the thread of a live task collected with its simulation */
#define RT_EXTRA_ORPHAN (UINTPTR_MAX - 1)

/* What the runtime's own handler returns to stop a run: an unhandled task
** error, whose report is on rt->L's top. The simulation keeps it aside
** (sim_failure) with the runtime's component id, which is how rt_run_raw
** tells it from a C component's handler value. */
#define RT_STOP_ERROR 1

void rt_set_extraspace(lua_State *co, uintptr_t v);
/* The slot the next rt_slot_alloc takes, made room for (raises on no
** memory); take a free slot for t (raises only where reserve would). */
uint32_t rt_slot_reserve(lua_State *L, rt_global *G);
uint32_t rt_slot_alloc(lua_State *L, rt_global *G, rt_task *t);
/* Release t's slot; bumping the generation makes every id of t stale. */
void rt_slot_free(rt_global *G, rt_task *t);
rt_task *rt_task_from_id(rt_global *G, uint64_t id);
/* The thread pool (rttask.c): make its keeper (returns its registry
** ref), and whether co is one of its free threads. */
int rt_pool_new(lua_State *L, rt_global *G);
int rt_thread_pooled(const rt_global *G, const lua_State *co);
/* rt_push_object(L, rt) for the spawn and end of every task: the objects
** table by its integer registry ref, without hashing a key. */
void rt_push_sim(lua_State *L, rt_runtime *rt);
/* Push the anchor table of rt's simulation: from the cache when rt was
** the last one asked (the spawn, resume and end of every task ask). Never
** allocates: the cache's slot exists. */
void rt_push_anchors(lua_State *L, rt_runtime *rt);
/* The index of rt's anchor table on L's stack while rt runs on L (held
** by the run's frame, checked by address), or 0. */
int rt_anchors_index(lua_State *L, const rt_runtime *rt);
/* Push both, the anchor table then the sim object (every spawn): one
** look-up of the cache. */
void rt_push_anchors_sim(lua_State *L, rt_runtime *rt);
/* Take a suspended task out of whatever it waits for: its pending wake, the
** waitable it is linked on, and a call not yet delivered to its component
** (a withdrawn call never reaches the component). L (NULL when no Lua may
** run) is handed to the queue's leave hook: a grant handed on may wake a
** composite waiting on another request. */
void rt_task_leave_wait(lua_State *L, rt_task *t);
/* Schedule the resume of a task that waits, at the current time (a
** deadline it also waited for is cancelled). */
void rt_task_wake_now(rt_task *t);
/* A task waiting on the timeout that fires now (rt->firing) resumes in
** the timeout's own turn, as a sleep of the same length would (issue 15
** item 5): it is made ready and listed, and rt_handler resumes the list
** right after the timeout fired, in the order they waited. */
void rt_task_wake_inline(rt_task *t);
/* Take t out of its runtime's inline list (it ended meanwhile). */
void rt_inline_remove(rt_task *t);
/* End task t (object at idx): release its coroutine and slot, unanchor it,
** and notify everything that waits for it. UV_VALUES must hold its results
** (a packed table) or its error already. */
void rt_task_finish(lua_State *L, rt_task *t, int idx, int state);
/* The common end of task t: it returned nothing, nobody waits for it, no
** interrupt is pending. Allocates nothing (the thread pool has room). */
void rt_task_end(lua_State *L, rt_task *t);
/* Close a suspended coroutine: runs its pending <close> variables. Returns
** the status (LUA_OK, or the error a __close raised, left on co's top). */
int rt_close_thread(lua_State *L, lua_State *co);
/* Whether the error at err is the cancellation of the task at task_idx
** (raised by its own cancel): the task then ends cancelled, not failed. */
int rt_is_own_cancel(lua_State *L, int err, int task_idx);
/* Resume t and deal with how it stopped. Returns 0, or RT_STOP_ERROR with
** the report on rt->L's top. */
int rt_task_resume(rt_runtime *rt, rt_task *t, int nargs);

/* The runtime's event handler (rtdispatch.c), registered by rt_init. */
int rt_handler(sim_state *sim, void *ctx, const sim_event *ev);
/* ... and its hint: prefetch the task the next event resumes. */
void rt_hint(void *ctx, uint32_t kind, uint64_t data);

#endif
