"""Labels in French (the marketplace teams' language, the default) and English, and number formats.

Segment names, descriptions and actions come translated from the warehouse (``cluster_profiles``
has ``name``/``name_fr``, ``offer``/``offer_fr``...): :func:`localized` picks the column.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from amazing_assets.defs.segments.profiles import MIN_NAME_PURITY

LANGUAGES = {"FR": "fr", "EN": "en"}
DEFAULT_LANGUAGE = "fr"

LABELS: dict[str, dict[str, str]] = {
    "title": {"fr": "Amazing Segments — segments clients", "en": "Amazing Segments — customers"},
    "month": {"fr": "Mois", "en": "Month"},
    "language": {"fr": "Langue", "en": "Language"},
    "page": {"fr": "Page", "en": "Page"},
    "overview": {"fr": "Vue d'ensemble", "en": "Overview"},
    "profiles": {"fr": "Profils des segments", "en": "Segment profiles"},
    "explorer": {"fr": "Explorateur", "en": "Explorer"},
    "migration": {"fr": "Migrations", "en": "Migration"},
    "customer": {"fr": "Client", "en": "Customer"},
    "customers": {"fr": "Clients actifs", "en": "Active customers"},
    "purchasers": {"fr": "Acheteurs", "en": "Purchasers"},
    "revenue": {"fr": "Chiffre d'affaires", "en": "Revenue"},
    "orders": {"fr": "Commandes", "en": "Orders"},
    "avg_order_value": {"fr": "Panier moyen", "en": "Average order value"},
    "vs_previous": {"fr": "vs mois précédent", "en": "vs previous month"},
    "no_previous": {"fr": "pas de mois précédent", "en": "no previous month"},
    "month_activity": {
        "fr": "Activité du mois {month} (événements du mois seul)",
        "en": "Activity of {month} (that month's events only)",
    },
    "definition": {"fr": "Définition mesurée", "en": "Measured definition"},
    "no_purchase_horizons": {
        "fr": "Probabilité de ne pas acheter sous 30 / 60 / 90 jours",
        "en": "Chance of no purchase within 30 / 60 / 90 days",
    },
    "segments_compared": {
        "fr": "Tous les segments du mois, côte à côte",
        "en": "Every segment of the month, side by side",
    },
    "segments_window": {
        "fr": "Segments — clients actifs sur {window} mois ({first} à {last})",
        "en": "Segments — customers active over {window} months ({first} to {last})",
    },
    "segments": {"fr": "Segments", "en": "Segments"},
    "size": {"fr": "Clients", "en": "Customers"},
    "share": {"fr": "Part des clients", "en": "Share of customers"},
    "revenue_share": {"fr": "Part du CA", "en": "Share of revenue"},
    "segment": {"fr": "Segment", "en": "Segment"},
    "medians": {"fr": "Valeurs médianes", "en": "Median values"},
    "z_scores": {
        "fr": "Écart à la population (z-score)",
        "en": "Difference from the population (z-score)",
    },
    # Charts' axes and text alternatives (issue 27).
    "chart_data": {"fr": "Données du graphique : {title}", "en": "Chart data: {title}"},
    "chosen_month": {"fr": "● mois choisi : {month}", "en": "● chosen month: {month}"},
    "trend_summary": {
        "fr": "{title}, {count} mois ({first} à {last}) : au plus bas {low} ({low_month}), au "
        "plus haut {high} ({high_month}) ; {month}, mois choisi : {value}.",
        "en": "{title}, {count} months ({first} to {last}): lowest {low} ({low_month}), "
        "highest {high} ({high_month}); {month}, the chosen month: {value}.",
    },
    "stacked_summary": {
        "fr": "{title}, {count} mois, {segments} segments ; en {month} (mois choisi), le plus "
        "grand est « {name} » : {value}.",
        "en": "{title}, {count} months, {segments} segments; in {month} (the chosen month) the "
        "largest is “{name}”: {value}.",
    },
    "z_summary": {
        "fr": "« {segment} » comparé à la population : le plus au-dessus, {high} (z = {high_z}) "
        "; le plus en dessous, {low} (z = {low_z}).",
        "en": "“{segment}” against the population: furthest above, {high} (z = {high_z}); "
        "furthest below, {low} (z = {low_z}).",
    },
    "scatter_summary": {
        "fr": "{customers} clients de {segments} segments sur les deux premiers axes de l'ACP "
        "({month}).",
        "en": "{customers} customers of {segments} segments on the first two principal "
        "components ({month}).",
    },
    "sankey_summary": {
        "fr": "{customers} clients de {before} à {after}, en {flows} flux entre segments "
        "(nouveaux et partis compris).",
        "en": "{customers} customers from {before} to {after}, in {flows} flows between "
        "segments (new and gone included).",
    },
    "histogram_summary": {
        "fr": "{buyers} acheteurs ; CA attendu à 90 jours médian : {median} ; le 1 % le plus "
        "haut est regroupé dans la dernière tranche (à partir de {cap}).",
        "en": "{buyers} buyers; median expected 90-day revenue: {median}; the top 1 % is "
        "grouped in the last bar (from {cap}).",
    },
    "feature": {"fr": "Caractéristique", "en": "Feature"},
    "value_range": {
        "fr": "CA attendu à 90 jours (tranche)",
        "en": "Expected 90-day revenue (range)",
    },
    "median_pc": {"fr": "Médiane PC {axis}", "en": "Median PC {axis}"},
    "actions": {"fr": "Actions recommandées", "en": "Recommended actions"},
    "channel": {"fr": "Canal", "en": "Channel"},
    "offer": {"fr": "Offre", "en": "Offer"},
    "timing": {"fr": "Moment", "en": "Timing"},
    "kpi": {"fr": "Indicateur à suivre", "en": "KPI to track"},
    "export": {"fr": "Exporter les clés clients (CSV)", "en": "Export customer keys (CSV)"},
    "export_help": {
        "fr": "Clés pseudonymes, pour l'outil de campagne : aucun identifiant direct.",
        "en": "Pseudonymous keys for the campaign tool: no direct identifier.",
    },
    "filter_segments": {"fr": "Segments affichés", "en": "Segments shown"},
    "explorer_help": {
        "fr": "Chaque point est un client, projeté sur les deux premiers axes de l'ACP.",
        "en": "Each point is a customer, on the first two principal components.",
    },
    "migration_help": {
        "fr": "Clients passés d'un segment à l'autre depuis le mois précédent. Un segment "
        "renommé garde son identité : ses clients n'ont pas bougé, c'est sa définition qui a "
        "changé.",
        "en": "Customers who moved between segments since the previous month. A renamed "
        "segment keeps its identity: its customers did not move, its definition changed.",
    },
    "migration_moved": {
        "fr": "{moved} clients sur {present} ({share}) ont changé de segment.",
        "en": "{moved} of {present} customers ({share}) changed segment.",
    },
    "migration_renamed": {
        "fr": "« {before} » s'appelle désormais « {after} » : le seuil du segment a bougé, "
        "ses {customers} clients n'ont pas changé de segment.",
        "en": "“{before}” is now “{after}”: the segment's threshold moved; its {customers} "
        "customers did not change segment.",
    },
    "segment_renamed": {
        "fr": "anciennement « {name} » (le seuil du segment a bougé, pas ses clients)",
        "en": "formerly “{name}” (the segment's threshold moved, not its customers)",
    },
    "segment_definition_moved": {
        "fr": "la définition du segment a bougé",
        "en": "the segment's definition moved",
    },
    "from_segment": {"fr": "Segment de départ", "en": "From segment"},
    "to_segment": {"fr": "Segment d'arrivée", "en": "To segment"},
    "new": {"fr": "(nouveaux)", "en": "(new)"},
    "gone": {"fr": "(partis)", "en": "(gone)"},
    "no_migration": {
        "fr": "Pas de mois précédent à comparer.",
        "en": "No previous month to compare with.",
    },
    "lookup": {"fr": "Retrouver un client", "en": "Look up a customer"},
    "customer_id": {"fr": "Identifiant client", "en": "Customer id"},
    "search": {"fr": "Rechercher", "en": "Search"},
    "lookup_help": {
        "fr": "L'identifiant est pseudonymisé avant la recherche ; "
        "il n'est ni stocké ni journalisé.",
        "en": "The id is pseudonymised before the search; it is never stored or logged.",
    },
    "not_found": {
        "fr": "Aucun segment pour ce client sur les mois disponibles.",
        "en": "No segment for this customer in the available months.",
    },
    "history": {"fr": "Historique des segments", "en": "Segment history"},
    "lookup_unavailable": {
        "fr": "Recherche indisponible : clé de pseudonymisation absente.",
        "en": "Lookup unavailable: the pseudonymisation key is missing.",
    },
    "predict": {"fr": "Prédire le segment", "en": "Predict the segment"},
    "predict_help": {
        "fr": "Comportement sur la fenêtre glissante du modèle ; "
        "le résultat se met à jour aussitôt.",
        "en": "Behaviour over the model's trailing window; the result updates at once.",
    },
    "recency_days": {"fr": "Jours depuis la dernière visite", "en": "Days since last visit"},
    "orders_input": {"fr": "Commandes", "en": "Orders"},
    "spend": {"fr": "Dépense totale (€)", "en": "Total spend (€)"},
    "views": {"fr": "Produits vus", "en": "Product views"},
    "carts": {"fr": "Ajouts au panier", "en": "Add-to-carts"},
    "purchases": {"fr": "Articles achetés (0 = commandes)", "en": "Items bought (0 = orders)"},
    "predicted": {"fr": "Segment prédit", "en": "Predicted segment"},
    "invalid_input": {"fr": "Valeurs invalides", "en": "Invalid values"},
    "not_segmented": {
        "fr": "Mois non segmentés (ce n'est pas une erreur : pourquoi, et ce qu'il faut)",
        "en": "Months not segmented (not an error: why, and what is needed)",
    },
    "no_data": {
        "fr": "Aucun segment dans l'entrepôt : matérialisez le pipeline d'abord.",
        "en": "No segments in the warehouse yet: materialise the pipeline first.",
    },
    "value": {"fr": "Valeur client", "en": "Customer value"},
    "trends": {"fr": "Tendances sur tous les mois", "en": "Trends across all months"},
    "segment_sizes": {"fr": "Taille des segments", "en": "Segment sizes"},
    "segment_revenue": {"fr": "Part du CA par segment", "en": "Share of revenue by segment"},
    "changes": {
        "fr": "Ce qui a changé depuis le mois dernier",
        "en": "What changed since last month",
    },
    "segment_new": {"fr": "nouveau segment ce mois-ci", "en": "new segment this month"},
    "customers_lower": {"fr": "clients", "en": "customers"},
    "of_revenue": {"fr": "du CA", "en": "of revenue"},
    "churn_risk": {"fr": "Risque de départ", "en": "Churn risk"},
    "p_alive": {"fr": "Probabilité d'être actif", "en": "Probability of being active"},
    "expected_revenue_90d": {"fr": "CA attendu à 90 jours", "en": "Expected 90-day revenue"},
    "expected_purchases_90d": {
        "fr": "Achats attendus à 90 jours",
        "en": "Expected 90-day purchases",
    },
    "expected_order_value": {"fr": "Panier attendu", "en": "Expected order value"},
    "modelled_buyers": {"fr": "Acheteurs modélisés", "en": "Buyers modelled"},
    "value_action": {"fr": "Action selon la valeur", "en": "Action given value"},
    "value_distribution": {
        "fr": "Distribution du CA attendu à 90 jours par acheteur",
        "en": "Expected 90-day revenue per buyer",
    },
    "top_customers": {"fr": "Meilleurs clients attendus", "en": "Top customers by expected value"},
    "export_top": {"fr": "Exporter le top 10 % (CSV)", "en": "Export the top 10 % (CSV)"},
    "churn_by_segment": {"fr": "Risque de départ par segment", "en": "Churn risk by segment"},
    "at_risk_customers": {
        "fr": "Clients à risque du segment (risque ≥ 50 %), par valeur attendue",
        "en": "The segment's customers at risk (risk ≥ 50 %), by expected value",
    },
    "export_at_risk": {
        "fr": "Exporter les clients à risque (CSV)",
        "en": "Export customers at risk (CSV)",
    },
    "value_help": {
        "fr": "Prédictions à 90 jours des modèles BG/NBD modifié et Gamma-Gamma, pour les clients "
        "ayant déjà acheté ; clés pseudonymes uniquement.",
        "en": "90-day predictions of the modified BG/NBD and Gamma-Gamma models, for customers who "
        "have bought; pseudonymous keys only.",
    },
    "no_value": {
        "fr": "Pas de valeur client pour ce mois : matérialisez customer_value.",
        "en": "No customer value for this month: materialise customer_value.",
    },
    "customer_value_card": {"fr": "Valeur prédite", "en": "Predicted value"},
    "no_value_customer": {
        "fr": "Aucun achat connu : valeur non prédite.",
        "en": "No known purchase: value not predicted.",
    },
    "user_key": {"fr": "Clé client", "en": "Customer key"},
    "outcomes": {"fr": "Ça a marché ?", "en": "Did it work?"},
    "outcomes_help": {
        "fr": "Pour chaque export du mois : les clients ciblés comparés au groupe témoin "
        "(tenu à l'écart, non contacté) le mois suivant. L'intervalle est à 95 %.",
        "en": "For each export of the month: the targeted customers against the control group "
        "(held out, not contacted) the month after. The interval is at 95 %.",
    },
    "no_outcomes": {
        "fr": "Aucun export mesuré pour ce mois : matérialisez audience_exports et "
        "action_outcomes.",
        "en": "No measured export for this month: materialise audience_exports and "
        "action_outcomes.",
    },
    "target": {"fr": "Ciblés", "en": "Target"},
    "control": {"fr": "Témoin", "en": "Control"},
    "difference": {"fr": "Écart", "en": "Difference"},
    "interval": {"fr": "Intervalle à 95 %", "en": "95 % interval"},
    "purchase_rate": {"fr": "Taux d'achat", "en": "Purchase rate"},
    "orders_per_customer": {"fr": "Commandes par client", "en": "Orders per customer"},
    "revenue_per_customer": {"fr": "CA par client", "en": "Revenue per customer"},
    "incremental_revenue": {"fr": "CA incrémental", "en": "Incremental revenue"},
    "action": {"fr": "Action", "en": "Action"},
    "export_id": {"fr": "Export", "en": "Export"},
    "measured_in": {"fr": "mesuré sur", "en": "measured on"},
    "export_measured": {
        "fr": "Exporter l'audience avec son groupe témoin (CSV)",
        "en": "Export the audience with its control group (CSV)",
    },
    "export_measured_help": {
        "fr": "Colonne group : ne contactez que les lignes « target ». Les lignes « control » "
        "sont tenues à l'écart pour mesurer l'effet de l'action (page « Ça a marché ? »).",
        "en": 'Column group: contact the rows marked "target" only. The "control" rows are '
        'held out to measure the action\'s effect (page "Did it work?").',
    },
    "export_sizes": {
        "fr": "{targets} ciblés, {controls} témoins ({share} tenus à l'écart), export {export_id}",
        "en": "{targets} targets, {controls} controls ({share} held out), export {export_id}",
    },
    "export_unmeasured": {
        "fr": "Pas d'audience enregistrée pour ce mois (audience_exports) : cet export n'a pas "
        "de groupe témoin, son effet ne pourra pas être mesuré.",
        "en": "No recorded audience for this month (audience_exports): this export has no "
        "control group, its effect cannot be measured.",
    },
    "purity_ok": {
        "fr": "{share} des membres sont, chacun, ce que dit le nom.",
        "en": "{share} of the members are, each on their own, what the name says.",
    },
    "purity_low": {
        "fr": "Attention : seuls {share} des membres sont, chacun, ce que dit le nom (moins de "
        "{floor}). Le nom décrit le segment en moyenne ; vérifiez l'action avant de l'envoyer à "
        "tous.",
        "en": "Caution: only {share} of the members are, each on their own, what the name says "
        "(under {floor}). The name describes the segment on average; check the action before "
        "sending it to everyone.",
    },
    "verdict_worked": {"fr": "l'action a marché", "en": "the action worked"},
    "verdict_no_effect": {"fr": "aucun effet mesurable", "en": "no measurable effect"},
    "verdict_harmed": {
        "fr": "l'action a fait baisser les achats",
        "en": "the action lowered purchases",
    },
    "verdict_measured": {
        "fr": "{diff} points de taux d'achat (intervalle à 95 % : {low} à {high}) : {verdict}",
        "en": "{diff} points of purchase rate (95 % interval {low} to {high}): {verdict}",
    },
    "verdict_not_measurable": {
        "fr": "pas encore mesurable : le groupe témoin compte {controls} clients, il en faut "
        "{needed}",
        "en": "not measurable yet: the control holds {controls} customers, {needed} are needed",
    },
    "verdict_waiting": {"fr": "en attente de {month}", "en": "waiting for {month}"},
    "incremental_sentence": {
        "fr": "CA incrémental : {value} (intervalle à 95 % : {low} à {high})",
        "en": "Incremental revenue: {value} (95 % interval {low} to {high})",
    },
    "access_denied": {
        "fr": "Accès non configuré : l'application exige une authentification hors démo.",
        "en": "Access is not configured: the app requires authentication outside the demo.",
    },
    # --- Model quality page (issue 27): keep these keys together, at the end. ---------------
    "quality": {"fr": "Qualité des modèles", "en": "Model quality"},
    "quality_help": {
        "fr": "Ce que valent les segments et les prédictions de valeur de ce mois, mesuré par le "
        "pipeline sur vos propres données.",
        "en": "How good this month's segments and value predictions are, measured by the "
        "pipeline on your own data.",
    },
    "quality_segments": {"fr": "Segments", "en": "Segments"},
    "quality_value": {"fr": "Prédictions de valeur", "en": "Value predictions"},
    "quality_no_segments": {
        "fr": "Pas de mesure de qualité des segments pour ce mois : matérialisez kmeans_model.",
        "en": "No segment quality for this month: materialise kmeans_model.",
    },
    "quality_separation": {
        "fr": "Les {k} segments sont {words} (silhouette {silhouette} ; 1 = groupes parfaitement "
        "séparés, 0 = groupes qui se chevauchent).",
        "en": "The {k} segments are {words} (silhouette {silhouette}; 1 = perfectly separate "
        "groups, 0 = overlapping groups).",
    },
    "band_strong": {"fr": "très distincts", "en": "very distinct"},
    "band_reasonable": {"fr": "distincts", "en": "distinct"},
    "band_weak": {
        "fr": "en partie distincts : leurs frontières se chevauchent",
        "en": "partly distinct: their borders overlap",
    },
    "band_none": {
        "fr": "peu distincts : des tranches d'un continuum plutôt que des groupes séparés",
        "en": "hardly distinct: bands of a continuum rather than separate groups",
    },
    "quality_stability": {
        "fr": "{stable} segments sur {k}, soit {share} des clients, sont retrouvés quand la "
        "segmentation est refaite sur d'autres échantillons de clients (recouvrement d'au moins "
        "{floor}) ; le moins stable est retrouvé à {least}.",
        "en": "{stable} of {k} segments, holding {share} of the customers, are found again when "
        "the segmentation is redone on other samples of customers (an overlap of at least "
        "{floor}); the least stable is found again at {least}.",
    },
    "quality_why_k": {"fr": "Pourquoi ce nombre de segments", "en": "Why this number of segments"},
    "tier_non-buyers": {"fr": "Non-acheteurs", "en": "Non-buyers"},
    "tier_buyers": {"fr": "Acheteurs", "en": "Buyers"},
    "tier_high-basket buyers": {"fr": "Acheteurs à gros panier", "en": "High-basket buyers"},
    "rule_single": {
        "fr": "{k} segment : trop peu de clients ({customers}) ou un seul comportement pour en "
        "distinguer plusieurs.",
        "en": "{k} segment: too few customers ({customers}) or a single behaviour to tell "
        "several apart.",
    },
    "rule_value_tier": {
        "fr": "{k} segment, par construction : les plus gros paniers ({customers} clients) "
        "restent ensemble.",
        "en": "{k} segment by design: the biggest baskets ({customers} customers) stay together.",
    },
    "rule_collapsed": {
        "fr": "{k} segment : aucun découpage des {customers} clients ne donne deux groupes "
        "distincts.",
        "en": "{k} segment: no split of the {customers} customers gives two distinct groups.",
    },
    "rule_most_stable": {
        "fr": "{k} segments pour {customers} clients : aucun découpage n'était assez stable ; "
        "celui-ci est le plus stable (accord {agreement} entre rééchantillonnages).",
        "en": "{k} segments for {customers} customers: no split was stable enough; this one "
        "is the most stable (agreement {agreement} between resamplings).",
    },
    "rule_majority": {
        "fr": "{k} segments pour {customers} clients : le nombre sur lequel s'accordent deux "
        "des trois mesures de qualité, parmi les découpages qui restent stables quand on "
        "rééchantillonne les clients (accord {agreement}).",
        "en": "{k} segments for {customers} customers: the number two of the three quality "
        "measures agree on, among the splits that stay stable when customers are resampled "
        "(agreement {agreement}).",
    },
    "rule_smallest_voted": {
        "fr": "{k} segments pour {customers} clients : les trois mesures de qualité ne "
        "s'accordaient pas ; le plus petit nombre proposé est retenu (accord {agreement} entre "
        "rééchantillonnages).",
        "en": "{k} segments for {customers} customers: the three quality measures disagreed; "
        "the smallest number proposed is kept (agreement {agreement} between resamplings).",
    },
    "stability_column": {"fr": "Retrouvé à", "en": "Found again at"},
    "stability_verdict": {"fr": "Verdict", "en": "Verdict"},
    "stability_stable": {"fr": "stable", "en": "stable"},
    "stability_pattern": {"fr": "à lire avec prudence", "en": "read with care"},
    "stability_dissolved": {"fr": "instable", "en": "unstable"},
    "quality_minimums": {
        "fr": "Minimums : les prédictions de valeur ne sont faites et montrées qu'à partir de "
        "{buyers} acheteurs, dont {repeat} acheteurs réguliers (achats sur au moins deux jours "
        "différents), jusqu'au mois choisi. En dessous, elles sont masquées, avec la raison. "
        "Leur précision se mesure sur un mois qui atteint ces minimums suivi de {holdout} mois "
        "observés.",
        "en": "Minimums: value predictions are made and shown only from {buyers} buyers, "
        "{repeat} of them repeat buyers (purchases on two different days or more), up to the "
        "chosen month. Below that they are hidden, with the reason. Their accuracy is measured "
        "on a month meeting these minimums followed by {holdout} observed months.",
    },
    "quality_measured_top": {
        "fr": "Testé sur le passé : un modèle entraîné sur les achats jusqu'à {origin} a classé "
        "{customers} clients. Des 10 % qu'il classait le plus haut sont venus {share} du chiffre "
        "d'affaires des {holdout} mois suivants ({start} à {end}) ; 10 % de clients pris au "
        "hasard en auraient apporté 10 %.",
        "en": "Tested on the past: a model fitted on the purchases up to {origin} ranked "
        "{customers} customers. The 10 % it ranked highest brought {share} of the revenue of "
        "the next {holdout} months ({start} to {end}); 10 % of customers picked at random would "
        "have brought 10 %.",
    },
    "quality_measured_ratio": {
        "fr": "Il prévoyait {predicted} achats sur ces {holdout} mois, il y en a eu {actual} "
        "(prévu / réel : {ratio}) ; des 10 % qu'il voyait acheter le plus sont venus {purchases} "
        "des achats.",
        "en": "It predicted {predicted} purchases over these {holdout} months; there were "
        "{actual} (predicted / actual: {ratio}); the 10 % it expected to buy most made "
        "{purchases} of the purchases.",
    },
    "quality_model": {
        "fr": "Modèle retenu ce mois : {model}, choisi par ce test parmi les candidats.",
        "en": "Model used this month: {model}, chosen by this test among the candidates.",
    },
    "quality_deciles": {
        "fr": "Achats prévus et réels par dixième de clients (10 = ceux dont on attendait le plus)",
        "en": "Predicted and actual purchases by tenth of customers (10 = those expected to buy "
        "most)",
    },
    "decile": {"fr": "Dixième", "en": "Tenth"},
    "decile_predicted": {"fr": "Achats prévus par client", "en": "Predicted purchases each"},
    "decile_actual": {"fr": "Achats réels par client", "en": "Actual purchases each"},
    "decile_ratio": {"fr": "Prévu / réel", "en": "Predicted / actual"},
    "quality_not_measurable": {
        "fr": "Précision pas encore mesurable : l'historique commence en {start} ({months} mois, "
        "{days} jours) ; un test demande un mois d'au moins {buyers} acheteurs dont {repeat} "
        "réguliers, suivi de {holdout} mois observés. {when} En attendant, le modèle par défaut "
        "({model}) prédit, sans preuve de sa précision sur vos données.",
        "en": "Accuracy not measurable yet: the history starts in {start} ({months} months, "
        "{days} days); a test needs a month of at least {buyers} buyers, {repeat} of them "
        "repeat buyers, followed by {holdout} observed months. {when} Meanwhile the default "
        "model ({model}) predicts, with no proof of its accuracy on your data.",
    },
    "quality_measurable_from": {
        "fr": "Premier mois mesurable : {month}.",
        "en": "First measurable month: {month}.",
    },
    "quality_measurable_later": {
        "fr": "Aucun mois n'atteint encore ces minimums.",
        "en": "No month meets these minimums yet.",
    },
    "quality_not_tested": {
        "fr": "Précision non mesurée : aucun modèle candidat n'a pu être testé ({reason}). Le "
        "modèle par défaut ({model}) prédit.",
        "en": "Accuracy not measured: no candidate model could be tested ({reason}). The "
        "default model ({model}) predicts.",
    },
    "quality_hidden": {
        "fr": "Prédictions masquées pour {month} : {buyers} acheteurs, dont {repeat} réguliers, "
        "jusqu'à ce mois ; il en faut au moins {min_buyers} et {min_repeat}.",
        "en": "Predictions hidden for {month}: {buyers} buyers, {repeat} of them repeat buyers, "
        "up to this month; at least {min_buyers} and {min_repeat} are needed.",
    },
    "quality_no_value": {
        "fr": "Pas de bilan des prédictions pour ce mois : matérialisez customer_value.",
        "en": "No record of the value predictions for this month: materialise customer_value.",
    },
}

# Medians shown on the profiles page (column suffix → label).
MEDIAN_LABELS: dict[str, dict[str, str]] = {
    "recency_days": {"fr": "Jours depuis la dernière visite", "en": "Days since last visit"},
    "frequency": {"fr": "Commandes", "en": "Orders"},
    "monetary": {"fr": "Dépense (€)", "en": "Spend (€)"},
    "avg_order_value": {"fr": "Panier moyen (€)", "en": "Average order value (€)"},
    "n_views": {"fr": "Produits vus", "en": "Product views"},
    "n_carts": {"fr": "Ajouts au panier", "en": "Add-to-carts"},
    "n_sessions": {"fr": "Visites", "en": "Sessions"},
    "view_to_cart_rate": {"fr": "Taux vue → panier", "en": "View-to-cart rate"},
    "cart_to_purchase_rate": {"fr": "Taux panier → achat", "en": "Cart-to-purchase rate"},
    "active_days": {"fr": "Jours actifs", "en": "Active days"},
}


def label(key: str, language: str) -> str:
    """The label in ``language``; an unknown key is a programming error, not a blank label."""
    return LABELS[key][language]


def localized(row: Mapping[str, object], field: str, language: str) -> str:
    """A translated warehouse field: ``field_fr`` in French when present, else ``field``."""
    if language == "fr" and row.get(f"{field}_fr"):
        return str(row[f"{field}_fr"])
    return str(row[field])


def format_number(value: float, language: str, decimals: int = 0) -> str:
    """Thousands grouped the local way: ``1 234 567,5`` (fr) or ``1,234,567.5`` (en)."""
    text = f"{value:,.{decimals}f}"
    if language == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def format_money(value: float, language: str) -> str:
    number = format_number(value, language, 2)
    return f"{number} €" if language == "fr" else f"€{number}"


def format_percent(share: float, language: str, decimals: int = 1) -> str:
    number = format_number(100 * share, language, decimals)
    return f"{number}\u202f%" if language == "fr" else f"{number}%"


def purity_sentence(purity: object, language: str) -> tuple[str, bool] | None:
    """The segment's purity in words and whether it is below the floor; None for a neutral
    name (it claims nothing) or a table stored before purity existed."""
    if not isinstance(purity, (int, float)) or not math.isfinite(purity):
        return None
    low = purity < MIN_NAME_PURITY
    text = label("purity_low" if low else "purity_ok", language).format(
        share=format_percent(purity, language, 0),
        floor=format_percent(MIN_NAME_PURITY, language, 0),
    )
    return text, low


def format_change(current: float, previous: float | None, language: str) -> str:
    """Relative change against the previous month (``+12,3 %``), or a note that there is none."""
    if previous is None or not math.isfinite(previous):
        return label("no_previous", language)
    if previous == 0:
        return "—" if current == 0 else "+∞"
    change = (current - previous) / previous
    sign = "+" if change >= 0 else "−"
    return f"{sign}{format_percent(abs(change), language)} {label('vs_previous', language)}"


# Campaign exports, churn bands and honest counts (issue 27).
LABELS.update(
    {
        "no_at_risk": {
            "fr": "Aucun acheteur de ce segment n'a un risque de départ de 50 % ou plus.",
            "en": "No buyer of this segment has a churn risk of 50 % or more.",
        },
        "file_top_customers": {"fr": "meilleurs clients", "en": "top customers"},
        "file_at_risk": {"fr": "clients a risque", "en": "customers at risk"},
        "file_segment": {"fr": "segment", "en": "segment"},
        "export_columns": {
            "fr": "Colonnes : user_key (clé pseudonyme), segment, month, churn_risk, p_alive, "
            "expected_purchases_90d, expected_revenue_90d (vides sans achat connu) ; séparateur "
            "« ; », virgule décimale (Excel en français).",
            "en": "Columns: user_key (pseudonymous key), segment, month, churn_risk, p_alive, "
            "expected_purchases_90d, expected_revenue_90d (empty without a known purchase); "
            "comma-separated, decimal point.",
        },
    }
)

# The customer lookup's explanation (issue 27): why this segment, what would move them up.
LABELS.update(
    {
        "why_segment": {"fr": "Pourquoi ce segment", "en": "Why this segment"},
        "why_line": {
            "fr": "{feature} : {value} (médiane du segment {segment}, tous les clients {everyone})",
            "en": "{feature}: {value} (segment median {segment}, all customers {everyone})",
        },
        "why_none": {
            "fr": "Aucune caractéristique ne le distingue nettement du client médian.",
            "en": "No feature sets this customer clearly apart from the median customer.",
        },
        "move_up": {"fr": "Ce qui le ferait monter", "en": "What would move them up"},
        "move_orders": {
            "fr": "{count} commandes de plus, au panier de {basket} → « {target} »",
            "en": "{count} more orders, at a {basket} basket → “{target}”",
        },
        "move_order": {
            "fr": "Une commande de plus, au panier de {basket} → « {target} »",
            "en": "One more order, at a {basket} basket → “{target}”",
        },
        "move_recency_days": {
            "fr": "Une dernière visite il y a {after} jours au lieu de {before} → « {target} »",
            "en": "A last visit {after} days ago instead of {before} → “{target}”",
        },
        "move_spend": {
            "fr": "{amount} de dépense en plus sur les mêmes commandes → « {target} »",
            "en": "{amount} more spend on the same orders → “{target}”",
        },
        "move_top": {
            "fr": "Déjà dans le segment le plus précieux du mois.",
            "en": "Already in the month's most valuable segment.",
        },
        "move_none": {
            "fr": "Aucun changement d'un seul levier dans des bornes raisonnables (jusqu'à "
            "10 commandes de plus, 10 paniers de dépense, une visite aujourd'hui) ne le fait "
            "passer dans un segment plus précieux.",
            "en": "No change of a single lever within reasonable bounds (up to 10 more orders, "
            "10 baskets of spend, a visit today) puts this customer in a more valuable segment.",
        },
        "move_value": {
            "fr": "Valeur : {before} → {after} par client (90 jours).",
            "en": "Value: {before} → {after} per customer (90 days).",
        },
        "move_value_observed": {
            "fr": "Segments classés par chiffre d'affaires par client sur la fenêtre.",
            "en": "Segments ranked by revenue per customer over the window.",
        },
        "no_features_customer": {
            "fr": "Pas d'activité de ce client sur la fenêtre du mois : rien à expliquer.",
            "en": "No activity of this customer in the month's window: nothing to explain.",
        },
    }
)
