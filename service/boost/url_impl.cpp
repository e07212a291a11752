// Boost.URL 1.81 ships no compiled library in Debian's libboost1.81-dev: its
// sources are built here, once.
#include <boost/url/src.hpp>
