/* placeholder while the server lands */
#include "transfer/airlock_server.h"
