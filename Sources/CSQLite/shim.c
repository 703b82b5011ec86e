#include "swapline_sqlite.h"
