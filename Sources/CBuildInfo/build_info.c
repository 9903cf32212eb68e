// The revision is a compile-time define that Package.swift sets from the STEVEDORE_REVISION environment
// variable (the Makefile exports `git describe` output there), so only this file is rebuilt when it changes.
#include "build_info.h"

#ifndef STEVEDORE_REVISION
#define STEVEDORE_REVISION "unknown"
#endif

const char *stevedore_build_revision(void) { return STEVEDORE_REVISION; }
