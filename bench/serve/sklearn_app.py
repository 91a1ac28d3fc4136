"""scikit-learn behind Flask, the reference bench/serve compares gopherlab's
exported server with: the same pipeline (StandardScaler, then
LogisticRegression with C=10) on the same iris data, and the same /predict
API (named features in, label, value and class probabilities out).

Run by bench/serve under gunicorn:
    IRIS_CSV=.../iris.csv gunicorn -w 5 -b 127.0.0.1:8000 sklearn_app:app
"""

import os

import numpy as np
from flask import Flask, jsonify, request
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
NAMES = ["setosa", "versicolor", "virginica"]

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
