#ifndef STEVEDORE_BUILD_INFO_H
#define STEVEDORE_BUILD_INFO_H

/// The git revision the binary was built from, as `make` passed it (STEVEDORE_REVISION), or "unknown".
const char *stevedore_build_revision(void);

#endif
