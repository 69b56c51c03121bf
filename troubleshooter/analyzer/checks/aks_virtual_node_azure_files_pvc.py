"""PersistentVolumeClaims (and other unsupported features) on AKS virtual nodes.

**What it finds.** A pod that is sent to AKS virtual nodes (Azure Container Instances through
virtual-kubelet) and mounts a claim: a `persistentVolumeClaim` volume, a StatefulSet's
volumeClaimTemplates entry or a generic ephemeral volume (ephemeral.volumeClaimTemplate),
which all become PersistentVolumeClaims. Pods reach virtual nodes through
the toleration `virtual-kubelet.io/provider` (or `azure.com/aci`), the nodeSelector
`type: virtual-kubelet`, or `nodeName: virtual-node-aci-linux`. Init containers are not
reported: the ACI provider (virtual-kubelet/azure-aci) runs them.

**Why it matters.** Virtual nodes cannot attach PersistentVolumes: the pod is scheduled, then
stays in `ProviderFailed` with the event `pod X requires volume Y which is of an unsupported
type`. This is true for Azure Files claims too, whether the in-tree or the CSI driver
provisioned them. The same pods also cannot use `hostAliases`, container
lifecycle hooks or `hostPath` volumes, and DaemonSets are not run there; those are reported as
warnings. With only a toleration the pod *may* land on a virtual node, so the claim is a
warning; with a nodeSelector or nodeName it will, so it is an error. (Virtual nodes v2, the
newer AKS extension, does support Azure Files claims; this check is about the original
virtual-node add-on, whose node is named `virtual-node-aci-linux`.)

**How to fix it.** Mount the Azure Files share inline, with the storage account name and key in
a Secret, instead of through a claim::

    volumes:
      - name: content
        csi:
          driver: file.csi.azure.com
          volumeAttributes:
            secretName: azure-storage-secret
            shareName: myshare

**Suppressing.** Annotate the workload with
`kb.troubleshooter/ignore: "aks-virtual-node-azure-files-pvc: <reason>"`, or put
`# kb-ignore: aks-virtual-node-azure-files-pvc <reason>` above the line.

**Reads.** Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet, Job, CronJob (jobTemplate)
and ReplicationController pod templates, also inside List objects and Helm or kustomize output;
`persistentVolumeClaim` volumes, StatefulSet volumeClaimTemplates and generic ephemeral
volumes (all become claims); `hostPath` volumes, `hostAliases`, and lifecycle of every
container (app, init, sidecar, ephemeral).
"""

from __future__ import annotations

from collections.abc import Iterator

from troubleshooter.analyzer.checks._common import key_position
from troubleshooter.analyzer.messages import say
from troubleshooter.analyzer.model import Model, Workload
from troubleshooter.analyzer.results import Finding
from troubleshooter.analyzer.tree import Map

ID = "aks-virtual-node-azure-files-pvc"
TITLE = "PersistentVolumeClaim on an AKS virtual node"
SEVERITY = "error"
ARTICLE = "aks-virtual-node-azure-files-pvc"

FAILING_EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-burst
spec:
  selector:
    matchLabels: {app: web-burst}
  template:
    metadata:
      labels: {app: web-burst}
    spec:
      tolerations:
        - operator: Exists
          key: virtual-kubelet.io/provider
      nodeSelector:  # forces the virtual node
        type: virtual-kubelet
      containers:
        - name: web
          image: nginx:1.27
          volumeMounts:
            - name: shared
              mountPath: /usr/share/nginx/html
      volumes:
        - name: shared
          persistentVolumeClaim:
            claimName: shared-files
"""

PASSING_EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-burst
spec:
  selector:
    matchLabels: {app: web-burst}
  template:
    metadata:
      labels: {app: web-burst}
    spec:
      tolerations:
        - operator: Exists
          key: virtual-kubelet.io/provider
      nodeSelector:  # forces the virtual node
        type: virtual-kubelet
      containers:
        - name: web
          image: nginx:1.27
          volumeMounts:
            - name: shared
              mountPath: /usr/share/nginx/html
      volumes:
        - name: shared
          csi:
            driver: file.csi.azure.com
            volumeAttributes:
              secretName: azure-storage-secret
              shareName: shared-files
"""

VIRTUAL_NODE_TOLERATIONS = ("virtual-kubelet.io/provider", "azure.com/aci")


def _targeting(spec: Map) -> str | None:
    """'forced' when the pod must run on a virtual node, 'allowed' when it may, else None."""
    if spec.str("nodeSelector", "type") == "virtual-kubelet":
        return "forced"
    if (spec.str("nodeName") or "").startswith("virtual-node-aci"):
        return "forced"
    for toleration in spec.maps("tolerations"):
        if toleration.str("key") in VIRTUAL_NODE_TOLERATIONS:
            return "allowed"
    return None


def _inline_fix(model: Model, workload: Workload, volume_name: str, claim: str | None) -> str:
    share, secret = "<share-name>", "<secret-with-azurestorageaccountname-and-key>"
    pv = model.pv_for_claim(workload.namespace, claim) if claim else None
    if pv is not None:
        csi = pv.node.map("spec", "csi")
        azure = pv.node.map("spec", "azureFile")
        if csi is not None:
            share = csi.str("volumeAttributes", "shareName") or share
            secret = csi.str("nodeStageSecretRef", "name") or secret
        elif azure is not None:
            share = azure.str("shareName") or share
            secret = azure.str("secretName") or secret
    return (
        "volumes:\n"
        f"  - name: {volume_name}\n"
        "    csi:\n"
        "      driver: file.csi.azure.com\n"
        "      volumeAttributes:\n"
        f"        secretName: {secret}\n"
        f"        shareName: {share}\n"
    )


# The finding messages (translations: docs/<ID>.<lang>.messages.yaml): where the pod runs,
# then what the virtual node cannot do (for claims: which volume, and what happens).
MESSAGES = {
    "runs-on": "The pod runs on AKS virtual nodes,",
    "may-run-on": "The pod may be scheduled on AKS virtual nodes,",
    "no-claims": "which cannot mount PersistentVolumeClaims:",
    "claim-template": "claim template {volume} (claims {claim}, ...)",
    "ephemeral-volume": "generic ephemeral volume {volume} (claim {claim})",
    "claim-volume": "volume {volume} (claim {claim})",
    "provider-failed": (
        "leaves it in ProviderFailed. Mount the Azure Files share inline with the CSI driver"
        " instead."
    ),
    "no-host-path": "which do not support hostPath volumes (volume {volume}).",
    "unsupported-field": "which do not support {field}.",
    "no-lifecycle": ("which do not support container lifecycle hooks (container {container})."),
    "daemon-set": (
        "DaemonSets are not run on AKS virtual nodes; the virtual-node toleration has no"
        " effect here."
    ),
}


def check(model: Model) -> Iterator[Finding]:
    """Yield findings for virtual-node pods with claims or unsupported features."""
    for workload in model.workloads:
        spec = workload.spec
        targeting = _targeting(spec)
        if targeting is None:
            continue
        where = "runs-on" if targeting == "forced" else "may-run-on"

        def finding(
            severity: str, line_column: tuple[int, int], message: dict, fix: str, ref=workload.ref
        ) -> Finding:
            return Finding(
                check=ID,
                severity=severity,
                article=ARTICLE,
                object=ref,
                line=line_column[0],
                column=line_column[1],
                fix=fix,
                **message,
            )

        for volume in workload.volumes().values():
            name = volume.name
            what = {"claimTemplate": "claim-template", "ephemeral": "ephemeral-volume"}.get(
                volume.origin, "claim-volume"
            )
            if volume.origin != "volume" or "persistentVolumeClaim" in volume.node.value:
                if volume.origin == "volume":
                    line_column = key_position(volume.node, "persistentVolumeClaim")
                else:
                    node = volume.claim_node or volume.node
                    line_column = (node.line, node.column)
                yield finding(
                    "error" if targeting == "forced" else "warning",
                    line_column,
                    say(
                        MESSAGES,
                        where,
                        "no-claims",
                        what,
                        "provider-failed",
                        volume=repr(name),
                        claim=volume.claim or "?",
                    ),
                    _inline_fix(model, workload, name, volume.claim),
                )
            elif "hostPath" in volume.node.value:
                yield finding(
                    "warning",
                    key_position(volume.node, "hostPath"),
                    say(MESSAGES, where, "no-host-path", volume=repr(name)),
                    f"volumes:\n  - name: {name}\n    emptyDir: {{}}\n",
                )
        unsupported = (("hostAliases", "hostAliases", "# resolve the names through DNS instead\n"),)
        for key, label, fix in unsupported:
            if spec.get(key) is not None:
                yield finding(
                    "warning",
                    key_position(spec, key),
                    say(MESSAGES, where, "unsupported-field", field=label),
                    fix,
                )
        for container in workload.containers():
            if container.node.get("lifecycle") is not None:
                yield finding(
                    "warning",
                    key_position(container.node, "lifecycle"),
                    say(MESSAGES, where, "no-lifecycle", container=container.name or "?"),
                    "# remove lifecycle.postStart/preStop; do the work in the entrypoint\n",
                )
        if workload.obj.kind == "DaemonSet":
            yield finding(
                "warning",
                key_position(workload.obj.node, "kind"),
                say(MESSAGES, "daemon-set"),
                "# run this workload as a Deployment if it must use virtual nodes\n",
            )
