# vendor/lua/lua.cmake -- the vendored Lua 5.4.7 as a static library,
# des_lua_vendored: vendor/lua/src minus the stand-alone programs (lua.c,
# luac.c), with the flags of Lua's own makefile for Linux (LUA_COMPAT_5_3,
# LUA_USE_LINUX, gnu99). Included by the top-level CMakeLists.txt unless
# DESHOST_SYSTEM_LUA is ON. Our -Werror does not apply to Lua's code.
set(DES_LUA_VENDOR_DIR ${CMAKE_CURRENT_LIST_DIR}/src)
file(GLOB DES_LUA_VENDOR_SOURCES ${DES_LUA_VENDOR_DIR}/*.c)
list(REMOVE_ITEM DES_LUA_VENDOR_SOURCES ${DES_LUA_VENDOR_DIR}/lua.c
                                        ${DES_LUA_VENDOR_DIR}/luac.c)
# des_lua_library(NAME [EXCLUDE_FROM_ALL]): the library, with Lua's flags.
function(des_lua_library name)
  add_library(${name} STATIC ${ARGN} ${DES_LUA_VENDOR_SOURCES})
  target_include_directories(${name} PUBLIC ${DES_LUA_VENDOR_DIR})
  # _DEFAULT_SOURCE: the global -D_POSIX_C_SOURCE would hide _setjmp/_longjmp,
  # mkstemp and friends that LUA_USE_LINUX relies on.
  target_compile_definitions(${name} PUBLIC LUA_COMPAT_5_3 LUA_USE_LINUX
                             PRIVATE _DEFAULT_SOURCE)
  target_compile_options(${name} PRIVATE -Wno-error)
  set_target_properties(${name} PROPERTIES C_STANDARD 99 C_EXTENSIONS ON)
  target_link_libraries(${name} PUBLIC m dl)
endfunction()
des_lua_library(des_lua_vendored)
# Errors and yields jump with __builtin_setjmp/__builtin_longjmp (ldo.c,
# patch 0014), except where sanitized code is linked with this library
# (DES_SANITIZE, DES_FUZZ): the sanitizers must see every jump. A test that
# links sanitized code with an unsanitized Lua (the ThreadSanitizer test of
# posts) takes des_lua_vendored_sjlj, with glibc's jumps.
if(NOT DES_SANITIZE AND NOT DES_FUZZ)
  target_compile_definitions(des_lua_vendored PRIVATE LUAI_BUILTIN_JMP)
endif()
des_lua_library(des_lua_vendored_sjlj EXCLUDE_FROM_ALL)
# The public headers, installed for embedders (deshost.h includes lua.h).
set(DES_LUA_VENDOR_HEADERS ${DES_LUA_VENDOR_DIR}/lua.h ${DES_LUA_VENDOR_DIR}/luaconf.h
    ${DES_LUA_VENDOR_DIR}/lualib.h ${DES_LUA_VENDOR_DIR}/lauxlib.h
    ${DES_LUA_VENDOR_DIR}/lua.hpp)
# The patches reproduce src/ (check_patches.sh).
add_test(NAME vendor_lua_patches
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_patches.sh ${CMAKE_CURRENT_LIST_DIR})
