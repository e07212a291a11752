// Compiles Asio's implementation once for the whole program
// (BOOST_ASIO_SEPARATE_COMPILATION), instead of in every translation unit.
#include <boost/asio/impl/src.hpp>
