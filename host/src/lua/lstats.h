/*
** lstats.h -- what the files of the statistics binding share: lstats.c
** (these helpers, des._stats), ltally.c (des.tally) and llevel.c
** (des.level). lstats.c's head comment says what the binding is.
*/
#ifndef DES_LSTATS_H
#define DES_LSTATS_H

#include "ldes.h"

/* The allocator of the Lua state: statistics count against its limits. */
stats_alloc lstats_alloc(lua_State *L);

/* Raise msg with the position of the caller (as error(msg, 2) in Lua:
** the model's line that made the bad call). */
int lstats_error(lua_State *L, const char *fmt, ...);

/* Push x, as an integer when it is one (counts, levels of whole items). */
void lstats_pushvalue(lua_State *L, double x);

/* Set t[k] = x on the table at the top: a number, or as lstats_pushvalue
** pushes it. */
void lstats_setnum(lua_State *L, const char *k, double x);
void lstats_setvalue(lua_State *L, const char *k, double x);

/* Start a report: {name = user value 1, kind = kind}. */
void lstats_report_head(lua_State *L, int idx, const char *kind);

/* A name for messages: user value 1 as a string. */
const char *lstats_name(lua_State *L, int idx);

/* The number argument idx of `fname` on the statistic at 1 (not a
** string, not NaN). */
double lstats_check_number(lua_State *L, int idx, const char *fname,
                           const char *kind);

/* The head of __index: push a method or the name and return NULL, or
** return the key to look up (a string). */
const char *lstats_index_key(lua_State *L);

/* Refuse to change a statistic its owner keeps (a resource's). */
void lstats_check_free(lua_State *L, int owned, const char *fname);

/* A metatable with its methods (behind `index`), __gc and __tostring. */
void lstats_new_mt(lua_State *L, const char *name, const luaL_Reg *methods,
                   lua_CFunction index, lua_CFunction gc,
                   lua_CFunction tostring);

/* Register des.tally's (ltally.c) / des.level's (llevel.c) metatable, and
** their constructors into the des._stats table at t (absolute). */
void lstats_tally_open(lua_State *L, int t);
void lstats_level_open(lua_State *L, int t);

#endif
