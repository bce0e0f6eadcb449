add_executable(wsgated ${CMAKE_CURRENT_SOURCE_DIR}/wsgated.c)
target_link_libraries(wsgated PRIVATE wsgate_sftp wsgate_transfer wsgate_sandbox wsgate_auth
	wsgate_policy wsgate_common PkgConfig::LIBSSH PkgConfig::SECCOMP)
