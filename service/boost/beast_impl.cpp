// Compiles Beast's implementation once (BOOST_BEAST_SEPARATE_COMPILATION).
#include <boost/beast/src.hpp>
