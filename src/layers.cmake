# The layers, one per folder, bottom-up (cmake/DgLayers.cmake explains dg_layer). A folder may
# include only the folders listed for it here; the build fails otherwise, and configure fails if
# the list has a cycle. After editing, run scripts/layer_graph.sh --write (docs/ARCHITECTURE.md).
# One declaration per line: scripts/layer_graph.sh reads them.

dg_layer(common PUBLIC fmt::fmt simdjson::simdjson PkgConfig::XXHASH Threads::Threads)
dg_layer(core PUBLIC common)
dg_layer(features PUBLIC core PRIVATE common PkgConfig::HS PkgConfig::GEOIP SOURCES ${CMAKE_BINARY_DIR}/generated/phrase_db.cc)
dg_layer(ingest PUBLIC common PRIVATE ZLIB::ZLIB PkgConfig::ZSTD)
dg_layer(state PUBLIC common core PRIVATE features PkgConfig::SQLITE)
dg_layer(detectors PUBLIC core state)
dg_layer(scoring PUBLIC detectors PRIVATE tomlplusplus::tomlplusplus SOURCES ${CMAKE_BINARY_DIR}/generated/default_model.cc)
dg_layer(linking PUBLIC state PRIVATE common core)
dg_layer(engine PUBLIC common core detectors features ingest linking scoring state)
dg_layer(report PUBLIC engine PRIVATE common scoring SOURCES ${CMAKE_BINARY_DIR}/generated/ui_assets.cc)
dg_layer(serve PUBLIC common engine ingest state PRIVATE core report scoring PkgConfig::SQLITE ZLIB::ZLIB tomlplusplus::tomlplusplus)
dg_layer(prove PRIVATE common)
dg_layer(tokenize PRIVATE fmt::fmt simdjson::simdjson PkgConfig::PCRE2 PkgConfig::UTF8PROC)
dg_layer(sim PUBLIC common PRIVATE tomlplusplus::tomlplusplus)
dg_layer(eval PRIVATE common ingest scoring)
dg_layer(cli EXECUTABLE distillguard PRIVATE common engine eval features ingest prove report scoring serve sim tokenize CLI11::CLI11 tomlplusplus::tomlplusplus)

dg_finish_layers()
target_compile_definitions(dg_report PRIVATE DG_VERSION="${PROJECT_VERSION}")
target_compile_definitions(distillguard PRIVATE DG_VERSION="${PROJECT_VERSION}")
