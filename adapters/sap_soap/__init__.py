"""SAP ECC / S/4HANA adapter over SOAMANAGER RFC web services (zeep). Read side; see README.md."""
