"""scikit-learn behind Flask, the reference bench/serve compares gopherlab's
exported server with: the same pipeline (StandardScaler, then
LogisticRegression) with the very parameters the exported job fitted,
and the same /predict API (named features in, label, value and class
probabilities out).

Run by bench/serve under gunicorn:
    MODEL_JSON=.../sklearn-model.json gunicorn -w 5 -b 127.0.0.1:8000 sklearn_app:app
MODEL_JSON holds the fitted parameters (mean, scale, coef, intercept,
classes, levels); without it, IRIS_CSV names iris.csv to fit on.
"""

import json
import os

import numpy as np
from flask import Flask, jsonify, request
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
NAMES = ["setosa", "versicolor", "virginica"]

if "MODEL_JSON" in os.environ:
    with open(os.environ["MODEL_JSON"]) as f:
        params = json.load(f)
    scaler = StandardScaler()
    scaler.mean_ = np.array(params["mean"])
    scaler.scale_ = np.array(params["scale"])
    scaler.var_ = scaler.scale_ ** 2
    scaler.n_features_in_ = len(FEATURES)
    scaler.n_samples_seen_ = 1
    lr = LogisticRegression(multi_class="multinomial")
    lr.coef_ = np.array(params["coef"])
    lr.intercept_ = np.array(params["intercept"])
    lr.classes_ = np.array(params["classes"])
    lr.n_features_in_ = len(FEATURES)
    if params.get("levels"):
        NAMES = params["levels"]
    model = make_pipeline(scaler, lr)
else:
    data = np.loadtxt(os.environ["IRIS_CSV"], delimiter=",", skiprows=1)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=10, max_iter=1000))
    model.fit(data[:, :4], data[:, 4].astype(int))

app = Flask(__name__)


@app.get("/health")
def health():
    return jsonify(ready=True)


@app.post("/predict")
def predict():
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return jsonify(error="send a JSON object"), 400
    instances = body["instances"] if "instances" in body else [body]
    try:
        X = np.array([[float(inst[f]) for f in FEATURES] for inst in instances])
    except (KeyError, TypeError, ValueError) as e:
        return jsonify(error="bad instance: %s" % e), 400
    pred = model.predict(X)
    proba = model.predict_proba(X)
    return jsonify(predictions=[
        {"value": float(p), "label": NAMES[int(p)], "proba": dict(zip(NAMES, map(float, pr)))}
        for p, pr in zip(pred, proba)
    ])
