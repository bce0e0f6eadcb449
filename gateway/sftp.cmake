add_library(wsgate_sftp STATIC ${CMAKE_CURRENT_SOURCE_DIR}/sftp_server.c
	${CMAKE_CURRENT_SOURCE_DIR}/sftp_upload.c)
target_link_libraries(wsgate_sftp PUBLIC wsgate_common)
