# cc-ci as a flake: the package, the NixOS module and the checks (the package's unit tests and the VM test
# of the CI host). On the CI host:
#
#   inputs.cc-ci.url = "git+https://<forge>/<owner>/cc-ci";
#   # in the host's modules:
#   imports = [ inputs.cc-ci.nixosModules.default ];
#   services.cc-ci.enable = true;
#
# `nix flake check` builds the package (running `cargo test --lib`) and runs the VM test; the first use
# writes flake.lock. Without flakes, import ./nix/module.nix directly (see docs/operations.md).
{
  description = "cc-ci: a test harness for Co-op Cloud recipes";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      ccciFor = pkgs: self.packages.${pkgs.stdenv.hostPlatform.system}.cc-ci;
    in
    {
      packages = forAllSystems (pkgs: {
        cc-ci = pkgs.callPackage ./nix/package.nix { };
        default = ccciFor pkgs;
      });

      overlays.default = final: _prev: { cc-ci = final.callPackage ./nix/package.nix { }; };

      # The module, with this flake's build of cc-ci as the default package.
      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.cc-ci.package = lib.mkDefault (ccciFor pkgs);
        };
      nixosModules.cc-ci = self.nixosModules.default;

      checks = forAllSystems (pkgs: {
        package = ccciFor pkgs;
        vm = import ./nix/tests/vm.nix {
          inherit pkgs;
          package = ccciFor pkgs;
        };
      });

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ (ccciFor pkgs) ];
          packages = with pkgs; [
            clippy
            rustfmt
            docker-client
            nix
          ];
        };
      });

      formatter = forAllSystems (pkgs: pkgs.nixfmt-rfc-style);
    };
}
