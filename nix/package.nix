# The cc-ci binary, built from Cargo.lock with the unit tests that need no Docker engine, and wrapped so it
# finds its data (generic-tests/, overlays/) and the git and docker clients it shells out to.
#
#   nix-build -E 'with import <nixpkgs> {}; callPackage ./nix/package.nix {}'
#   nix build .#cc-ci            (through flake.nix)
{
  lib,
  rustPlatform,
  makeWrapper,
  git,
  docker-client,
}:

let
  src = ../.;
  manifest = lib.importTOML (src + "/Cargo.toml");
  fs = lib.fileset;
in
rustPlatform.buildRustPackage {
  pname = "cc-ci";
  inherit (manifest.package) version;

  # Only what the build and the unit tests read: a README or docs change does not rebuild the binary.
  src = fs.toSource {
    root = src;
    fileset = fs.unions [
      (src + "/Cargo.toml")
      (src + "/Cargo.lock")
      (src + "/src")
      (src + "/generic-tests")
      (src + "/overlays")
      # Declared [[bench]] and [[test]] targets must exist for cargo to load the manifest; unit tests may
      # read the bundled example recipe.
      (fs.maybeMissing (src + "/benches"))
      (fs.maybeMissing (src + "/tests"))
      (fs.maybeMissing (src + "/examples"))
    ];
  };

  cargoLock.lockFile = src + "/Cargo.lock";

  nativeBuildInputs = [ makeWrapper ];

  # Unit tests only (`cargo test --lib`): the integration tests in tests/ drive a real Docker engine and
  # swarm, which the build sandbox does not have. Those run in the NixOS VM test (nix/tests/vm.nix).
  cargoTestFlags = [ "--lib" ];
  # Some unit tests make real git repositories in temporary directories.
  nativeCheckInputs = [ git ];
  preCheck = ''
    export HOME=$(mktemp -d)
    export GIT_AUTHOR_NAME=cc-ci GIT_AUTHOR_EMAIL=cc-ci@example.invalid
    export GIT_COMMITTER_NAME=cc-ci GIT_COMMITTER_EMAIL=cc-ci@example.invalid
  '';

  # The data the binary reads at run time lives in $out/share/cc-ci; CCCI_DATA_DIR points there unless the
  # caller already set it (an operator testing a working tree's overlays can override it).
  postInstall = ''
    mkdir -p $out/share/cc-ci
    cp -r generic-tests overlays $out/share/cc-ci/
    wrapProgram $out/bin/cc-ci \
      --set-default CCCI_DATA_DIR $out/share/cc-ci \
      --prefix PATH : ${
        lib.makeBinPath [
          git
          docker-client
        ]
      }
  '';

  meta = {
    description = manifest.package.description;
    license = lib.licenses.agpl3Plus;
    mainProgram = "cc-ci";
    platforms = lib.platforms.linux;
  };
}
