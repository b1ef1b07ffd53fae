"""Small matplotlib figures embedded in Dagster metadata as Markdown images."""

import base64
import io

import dagster as dg
import matplotlib

matplotlib.use("Agg")  # headless: run workers have no display
import matplotlib.pyplot as plt


def figure_markdown(fig) -> dg.MetadataValue:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode()
    return dg.MetadataValue.md(f"![plot](data:image/png;base64,{encoded})")


def scree_plot(explained: list[float]) -> dg.MetadataValue:
    fig, ax = plt.subplots(figsize=(5, 3))
    components = range(1, len(explained) + 1)
    ax.bar(components, explained, label="per component")
    ax.plot(
        components, [sum(explained[:i]) for i in components], "o-", color="C1", label="cumulative"
    )
    ax.set_xlabel("principal component")
    ax.set_ylabel("explained variance share")
    ax.set_ylim(0, 1)
    ax.legend()
    return figure_markdown(fig)


def selection_plot(scores) -> dg.MetadataValue:
    fig, (elbow, silhouette) = plt.subplots(1, 2, figsize=(8, 3))
    # One line per tier when k is chosen per tier (issue 12); one line otherwise.
    groups = scores.groupby("tier") if "tier" in scores else [("", scores)]
    for tier, part in groups:
        elbow.plot(part["k"], part["inertia"], "o-", label=tier)
        silhouette.plot(part["k"], part["silhouette"], "o-", label=tier)
    elbow.set_title("elbow (inertia)")
    elbow.set_xlabel("k")
    if "tier" in scores:
        silhouette.legend(fontsize="small")
    silhouette.set_title("silhouette")
    silhouette.set_xlabel("k")
    return figure_markdown(fig)
