# vendor/lua/lua.cmake -- the vendored Lua 5.4.7 as a static library,
# des_lua_vendored: vendor/lua/src minus the stand-alone programs (lua.c,
# luac.c), with the flags of Lua's own makefile for Linux (LUA_COMPAT_5_3,
# LUA_USE_LINUX, gnu99). Included by the top-level CMakeLists.txt unless
# DESHOST_SYSTEM_LUA is ON. Our -Werror does not apply to Lua's code.
set(DES_LUA_VENDOR_DIR ${CMAKE_CURRENT_LIST_DIR}/src)
file(GLOB DES_LUA_VENDOR_SOURCES ${DES_LUA_VENDOR_DIR}/*.c)
list(REMOVE_ITEM DES_LUA_VENDOR_SOURCES ${DES_LUA_VENDOR_DIR}/lua.c
                                        ${DES_LUA_VENDOR_DIR}/luac.c)
add_library(des_lua_vendored STATIC ${DES_LUA_VENDOR_SOURCES})
target_include_directories(des_lua_vendored PUBLIC ${DES_LUA_VENDOR_DIR})
# _DEFAULT_SOURCE: the global -D_POSIX_C_SOURCE would hide _setjmp/_longjmp,
# mkstemp and friends that LUA_USE_LINUX relies on.
target_compile_definitions(des_lua_vendored PUBLIC LUA_COMPAT_5_3 LUA_USE_LINUX
                           PRIVATE _DEFAULT_SOURCE)
target_compile_options(des_lua_vendored PRIVATE -Wno-error)
set_target_properties(des_lua_vendored PROPERTIES C_STANDARD 99 C_EXTENSIONS ON)
target_link_libraries(des_lua_vendored PUBLIC m dl)
# The public headers, installed for embedders (deshost.h includes lua.h).
set(DES_LUA_VENDOR_HEADERS ${DES_LUA_VENDOR_DIR}/lua.h ${DES_LUA_VENDOR_DIR}/luaconf.h
    ${DES_LUA_VENDOR_DIR}/lualib.h ${DES_LUA_VENDOR_DIR}/lauxlib.h
    ${DES_LUA_VENDOR_DIR}/lua.hpp)
# The patches reproduce src/ (check_patches.sh).
add_test(NAME vendor_lua_patches
         COMMAND ${CMAKE_CURRENT_LIST_DIR}/check_patches.sh ${CMAKE_CURRENT_LIST_DIR})
