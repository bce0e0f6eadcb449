add_executable(wsgated
	${CMAKE_CURRENT_SOURCE_DIR}/wsgated.c
	${CMAKE_CURRENT_SOURCE_DIR}/monitor.c
	${CMAKE_CURRENT_SOURCE_DIR}/monitor_rec.c
	${CMAKE_CURRENT_SOURCE_DIR}/monitor_proto.c
	${CMAKE_CURRENT_SOURCE_DIR}/monitor_wrap.c
	${CMAKE_CURRENT_SOURCE_DIR}/worker.c
	${CMAKE_CURRENT_SOURCE_DIR}/session.c
	${CMAKE_CURRENT_SOURCE_DIR}/recorder.c
	${CMAKE_CURRENT_SOURCE_DIR}/privsep.c
	${CMAKE_CURRENT_SOURCE_DIR}/slots.c)
target_link_libraries(wsgated PRIVATE wsgate_sftp wsgate_transfer wsgate_sandbox wsgate_auth
	wsgate_policy wsgate_common PkgConfig::LIBSSH PkgConfig::SECCOMP)
add_dependencies(wsgated wsgate-confined)
