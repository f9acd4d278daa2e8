#include "pptpkit/ppp/mppe_ccp.hpp"
