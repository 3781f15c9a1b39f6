# install.cmake -- what `cmake --install` puts where:
#   bin/deshost                        the CLI
#   include/deshost.h                  the public header
#   include/deshost/lua/*.h            the vendored Lua's public headers
#                                      (not with DESHOST_SYSTEM_LUA)
#   lib/libdeshost.{so,a}              the libraries
#   lib/cmake/deshost/                 find_package(deshost): deshost::deshost
#   lib/pkgconfig/deshost.pc           pkg-config deshost
#   lib/lua/5.4/des.so                 the Lua module (with its library)
#   share/lua/5.4/des/*.lua            the Lua library's sources
include(CMakePackageConfigHelpers)
set(DES_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/deshost)

install(TARGETS deshost RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS deshost_shared deshost_static EXPORT deshostTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES host/include/deshost.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# How an outside program gets Lua: from the system's lua5.4 package, or
# from the headers installed here and the Lua inside libdeshost.
if(DESHOST_SYSTEM_LUA)
  set(DES_PC_REQUIRES "Requires: lua5.4")
  set(DES_PC_CFLAGS "-I\${includedir}")
  set(DES_PC_LIBS_PRIVATE "-lm")
  set(DES_CONFIG_SYSTEM_LUA ON)
else()
  install(FILES ${DES_LUA_VENDOR_HEADERS} DESTINATION ${DES_LUA_INSTALL_INCLUDEDIR})
  set(DES_PC_REQUIRES "")
  set(DES_PC_CFLAGS "-I\${includedir} -I\${includedir}/deshost/lua")
  set(DES_PC_LIBS_PRIVATE "-lm -ldl")
  set(DES_CONFIG_SYSTEM_LUA OFF)
endif()
install(EXPORT deshostTargets NAMESPACE deshost:: DESTINATION ${DES_CMAKE_DIR})
configure_package_config_file(cmake/deshostConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/deshostConfig.cmake INSTALL_DESTINATION ${DES_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/deshostConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/deshostConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/deshostConfigVersion.cmake
        DESTINATION ${DES_CMAKE_DIR})
file(RELATIVE_PATH DES_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" DES_PC_TO_PREFIX "${DES_PC_TO_PREFIX}")
configure_file(cmake/deshost.pc.in ${CMAKE_CURRENT_BINARY_DIR}/deshost.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/deshost.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
install(TARGETS des_module LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/lua/5.4)
install(DIRECTORY lua/des DESTINATION ${CMAKE_INSTALL_DATADIR}/lua/5.4
        FILES_MATCHING PATTERN "*.lua")
