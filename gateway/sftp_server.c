typedef int wsgate_placeholder_sftp;
