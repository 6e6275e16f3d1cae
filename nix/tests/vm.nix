# NixOS VM test of the CI host: the module boots, the coord tree is provisioned at boot, the timers' units
# work under their sandbox, and a full `cc-ci run` of the bundled example recipe passes on a real swarm.
#
#   nix build .#checks.x86_64-linux.vm                        (flake)
#   nix-build -E 'import ./nix/tests/vm.nix { pkgs = import <nixpkgs> {}; }'
#
# Nothing is pulled from a registry: the images the example recipe uses are built here from nixpkgs'
# busybox with dockerTools and loaded into the VM's engine.
{
  pkgs,
  package ? pkgs.callPackage ../package.nix { },
}:

let
  # The example recipe's two images. They differ by a label, so the upgrade really changes the image.
  busyboxImage =
    tag:
    pkgs.dockerTools.buildImage {
      name = "ccci/busybox";
      inherit tag;
      copyToRoot = pkgs.buildEnv {
        name = "ccci-busybox-root";
        paths = [ pkgs.busybox ];
        pathsToLink = [ "/bin" ];
      };
      config = {
        Cmd = [ "/bin/sh" ];
        Labels."tech.coopcloud.ccci.image" = tag;
      };
    };
  image1 = busyboxImage "1";
  image2 = busyboxImage "2";

  recipeSrc = ../../examples/recipes/hello;
  makeRecipeRepo = ../../examples/make-recipe-repo.sh;
  exampleDir = "/var/lib/cc-ci/example";
in
pkgs.testers.runNixOSTest {
  name = "cc-ci";

  nodes.machine =
    { ... }:
    {
      imports = [ ../module.nix ];

      virtualisation = {
        memorySize = 3072;
        diskSize = 4096;
        cores = 2;
        docker.enable = true;
      };

      services.cc-ci = {
        enable = true;
        inherit package;
        # No abra in the VM: the stack deployer drives `docker stack deploy` directly.
        deployer = "stack";
        allowlistFile = pkgs.writeText "repo-local-approved.txt" "hello\n";
      };

      environment.systemPackages = [
        pkgs.git
        pkgs.jq
      ];
    };

  testScript = ''
    ccci = "sudo -u cc-ci -H -- /run/current-system/sw/bin/cc-ci"

    def as_ccci(cmd):
        return f"sudo -u cc-ci -H -- {cmd}"

    machine.wait_for_unit("docker.service")

    with subtest("the provision unit ran provisioning and reconcile at boot"):
        machine.wait_for_unit("cc-ci-coord-provision.service")
        machine.succeed("systemctl show -p Result --value cc-ci-coord-provision.service | grep -qx success")
        machine.succeed("test -f /var/lib/cc-ci/coord/ledger.db")
        machine.succeed("test -f /var/lib/cc-ci/coord/ledger.jsonl")
        machine.succeed("test \"$(stat -c %a /var/lib/cc-ci/coord)\" = 700")
        machine.succeed("test \"$(stat -c %U /var/lib/cc-ci/coord)\" = cc-ci")

    with subtest("every consumer resolves the same coord tree"):
        path = machine.succeed(f"{ccci} coord path").strip()
        assert "/var/lib/cc-ci/coord" in path, f"unexpected coord path: {path!r}"
        machine.succeed(f"{ccci} ledger verify")

    with subtest("a swarm (as on the real host), the proxy network and the example images"):
        machine.succeed("docker swarm init --advertise-addr 127.0.0.1")
        machine.succeed("docker network create --driver overlay --attachable proxy")
        machine.succeed("docker load --input ${image1}")
        machine.succeed("docker load --input ${image2}")
        machine.succeed("docker image inspect ccci/busybox:1 ccci/busybox:2")

    with subtest("the timers exist and their units work under the sandbox"):
        machine.succeed("systemctl list-timers --all | grep -q cc-ci-janitor.timer")
        machine.succeed("systemctl list-timers --all | grep -q cc-ci-obligations.timer")
        # Talks to the swarm through the Docker socket from inside ProtectSystem=strict.
        machine.succeed("systemctl start cc-ci-janitor.service")
        # No off-switch was used: no obligation, exit 0.
        machine.succeed("systemctl start cc-ci-obligations.service")

    with subtest("a run of the example recipe passes every tier"):
        machine.succeed(
            "install -d -o cc-ci -g cc-ci -m 0700 ${exampleDir}",
            "cp -r --no-preserve=mode ${recipeSrc} /tmp/hello-src",
            "chown -R cc-ci:cc-ci /tmp/hello-src",
        )
        head = machine.succeed(
            as_ccci("bash ${makeRecipeRepo} /tmp/hello-src ${exampleDir}/hello")
        ).strip().splitlines()[-1]
        assert len(head) == 40, f"make-recipe-repo printed no commit id: {head!r}"
        machine.succeed(
            f"{ccci} run --recipe ${exampleDir}/hello --ref {head} --pr 1"
            " --stages install,upgrade,backup,restore --deployer stack"
            " --junitxml ${exampleDir}/junit.xml --summary-md ${exampleDir}/summary.md"
            " --artifacts ${exampleDir}/artifacts"
            " >&2"
        )
        machine.succeed("grep -q '<testsuite' ${exampleDir}/junit.xml")
        machine.fail("grep -q '<failure' ${exampleDir}/junit.xml")
        machine.succeed("test -s ${exampleDir}/summary.md")

    with subtest("teardown left nothing of the run"):
        for kind in ["service", "volume", "secret", "config", "network"]:
            left = machine.succeed(f"docker {kind} ls -q --filter label=cc-ci.run-id").strip()
            assert left == "", f"{kind}s left by the run: {left}"

    with subtest("the run's verdicts are in a ledger that still verifies"):
        machine.succeed(f"{ccci} ledger verify")
        machine.succeed(f"{ccci} ledger export | grep -q verdict")
  '';
}
