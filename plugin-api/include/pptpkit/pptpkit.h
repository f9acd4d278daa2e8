/*
 * pptpkit/pptpkit.h — every public C header of the pptpkit plugin ABI, for hosts that want them all.
 */
#ifndef PPTPKIT_PPTPKIT_H
#define PPTPKIT_PPTPKIT_H

#include "pptpkit/abi.h"
#include "pptpkit/control.h"
#include "pptpkit/gre.h"
#include "pptpkit/host.h"
#include "pptpkit/packet.h"
#include "pptpkit/plugin.h"
#include "pptpkit/ppp.h"

#endif /* PPTPKIT_PPTPKIT_H */
